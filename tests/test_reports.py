"""The committed HTML pages (reports/, rendered by run_study.py from the full run) read as a submission: no traceback,
no warning, no absolute path, no test marker, each page titled by its notebook, and an index that links all six."""

import re

import nbformat
import pytest

import helpers

REPORTS = helpers.ROOT / "reports"
PAGES = [REPORTS / name.replace(".ipynb", ".html") for name in helpers.NOTEBOOKS]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_a_page_shows_no_traceback_warning_path_or_marker(page):
    html = page.read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<(style|script)\b.*?</\1>", " ", html, flags=re.S))
    assert "Traceback" not in text and not re.search(r"\b[A-Z]\w*Error:", text), "an exception is shown"
    assert not re.search(r"\b\w*Warning\b|WARNING", text), "a warning is shown"
    assert 'data-mime-type="application/vnd.jupyter.stderr"' not in html, "an output went to stderr"
    assert not re.search(r"(/work/|/home/|/tmp/|/Users/|[A-Z]:\\\\)", text), "an absolute path is shown"
    assert "NBVAL" not in text
    assert not re.search(r"\b(Recipe|Profile|AugmentConfig)\(\w+=", text), "a raw repr of the settings is shown"


@pytest.mark.parametrize("name", helpers.NOTEBOOKS)
def test_a_page_is_titled_by_its_notebook(name):
    title = nbformat.read(helpers.NOTEBOOKS_DIR / name, as_version=4).metadata["title"]
    html = (REPORTS / name.replace(".ipynb", ".html")).read_text(encoding="utf-8")
    assert f"<title>{title}</title>" in html


def test_the_index_links_every_page_and_gives_the_answer():
    html = (REPORTS / "index.html").read_text(encoding="utf-8")
    for page in PAGES:
        assert f'href="{page.name}"' in html
    answer = (helpers.ROOT / "artefacts" / "full" / "answer.md").read_text()
    assert "Does Siamese pre-training help" in html and answer.split("**")[1].split("?")[0] in html


def test_prose_cells_show_their_output_not_their_code():
    """The cells tagged hide-input (the written answer) show their text but not the code that filled it in."""
    html = (REPORTS / "06_comparison.html").read_text(encoding="utf-8")
    assert "conclusion.written_answer(" not in html
    assert "**Limitations.**" not in html and "Limitations." in html  # rendered Markdown, not its source
