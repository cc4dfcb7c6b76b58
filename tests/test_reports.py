"""The committed HTML pages (reports/, rendered by run_study.py from the full run) read as a submission: no traceback,
no warning, no path, no progress bar, no saved-file list or assert output, no code name in a table header, the code
folded, each page titled by its notebook, and an index that gives the answer with its figure and table and links all
six."""

import re

import nbformat
import pytest

import helpers
from ssl_study.run.runner import PROGRESS

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


def page_text(page) -> str:
    """What a reader sees of a page: its text without markup, styles, scripts and folded code."""
    html = re.sub(r"<(style|script)\b.*?</\1>|<details class=\"code-cell\">.*?</details>", " ",
                  page.read_text(encoding="utf-8"), flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_a_page_shows_results_not_machinery(page):
    text = page_text(page)
    assert not PROGRESS.search(text) and not re.search(r"\d+/\d+ \[\d\d:\d\d", text), "a progress bar is shown"
    assert not re.search(r"\bartefacts/|\bfigures/|\.weights\.h5|\.meta\.json|\bcache/", text), "a path is shown"
    assert not re.search(r"^\s*saved\b", text, re.M | re.I), "a list of saved files is shown"
    assert not re.search(r":\s*(True|False)\b", text), "an assert's output is shown"
    assert "profile 'full'" not in text and "profile 'quick'" not in text, "the profile's settings are shown"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_code_is_folded_and_table_headers_are_words(page):
    html = page.read_text(encoding="utf-8")
    code = html.count('class="jp-CodeMirrorEditor jp-Editor jp-InputArea-editor"')  # each code cell's shown code
    folded = re.findall(r'<details class="code-cell"><summary>code</summary>\s*<div class="jp-Cell-inputWrapper"', html)
    assert code and len(folded) == code, "a code cell is not folded"
    for header in re.findall(r"<th\b[^>]*>(.*?)</th>", html, flags=re.S):
        words = re.sub(r"<[^>]+>", "", header).strip()
        assert not re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", words), f"a code name as a table header: {words!r}"
    # nor in a table's cells: a method id, or a verdict's or an encoder's code name where a reader expects words
    raw = re.compile(r"[a-z]+_(recipe|finetune|probe|knn|logistic|supervised|fixmatch|pseudolabel)|undetected|untested"
                     r"|random|pixels|knn")
    for cell in re.findall(r"<t[dh]\b[^>]*>(.*?)</t[dh]>", html, flags=re.S):
        words = re.sub(r"<[^>]+>", "", cell).strip()
        assert not raw.fullmatch(words), f"a code name in a table cell: {words!r}"


@pytest.mark.parametrize("name", helpers.NOTEBOOKS)
def test_a_page_is_titled_by_its_notebook(name):
    title = nbformat.read(helpers.NOTEBOOKS_DIR / name, as_version=4).metadata["title"]
    html = (REPORTS / name.replace(".ipynb", ".html")).read_text(encoding="utf-8")
    assert f"<title>{title}</title>" in html


def test_the_index_gives_the_answer_with_its_figure_and_table_and_links_every_page():
    html = (REPORTS / "index.html").read_text(encoding="utf-8")
    for page in PAGES:
        assert f'href="{page.name}"' in html
    front = (helpers.ROOT / "artefacts" / "full" / "front_page.md").read_text()
    assert front.split("<sup>")[0][:80] in html, "the answer's first sentence is missing"
    assert re.search(r'<img [^>]*src="data:image/png;base64,', html), "the figure is missing"
    rows = re.findall(r"<tr>\s*<td[^>]*>(\d+)% \(", html)
    assert [r for r in rows if int(r) >= 10] == [str(10 * k) for k in range(1, 11)], "the assignment's table is missing"
    assert "Traceback" not in html and "None" not in re.sub(r"<[^>]+>", " ", html)


def test_a_pages_appendix_is_folded_into_one_line():
    """Everything from the "Appendix" heading on opens on a click; the story before it does not."""
    from ssl_study.run.runner import fold_appendix

    cell = '<div class="jp-Cell jp-MarkdownCell"><div class="jp-Cell-inputWrapper">{}</div></div>\n'
    page = ("<main>\n" + cell.format("<h2 id=\"Story\">Story</h2>") + cell.format('<h2 id="Appendix">Appendix</h2>')
            + cell.format("<p>secondary</p>") + "</main>")
    folded = fold_appendix(page)
    assert folded.index("Story") < folded.index('<details class="appendix">') < folded.index('id="Appendix"')
    assert folded.index("secondary") < folded.index("</details>") < folded.index("</main>")
    assert fold_appendix("<main>" + cell.format("no appendix") + "</main>") == "<main>" + cell.format(
        "no appendix") + "</main>"
    for name in ("02_supervised_baseline", "04_siamese_pretext", "05_finetune", "06_comparison"):
        html = (REPORTS / f"{name}.html").read_text(encoding="utf-8")
        assert html.count('<details class="appendix">') == 1, name


def test_prose_cells_show_their_output_not_their_code():
    """The cells tagged hide-input (the written answer) show their text but not the code that filled it in."""
    html = (REPORTS / "06_comparison.html").read_text(encoding="utf-8")
    assert "conclusion.written_answer(" not in html
    assert "**Limitations.**" not in html and "Limitations." in html  # rendered Markdown, not its source


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_every_styled_table_has_an_id_of_its_own(page):
    """Styles are keyed by a table's id: two tables with one id would share (and mix) their colours."""
    html = page.read_text(encoding="utf-8")
    ids = re.findall(r'<table id="(T_\w+)"', html)
    assert len(ids) == len(set(ids))

