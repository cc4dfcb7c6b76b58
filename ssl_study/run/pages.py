"""The notebooks' pages: the executed notebooks tidied for their HTML (progress bars and pandas' random table ids
out), rendered with their code folded (`render_html`), and the first page, ``index.html`` (`write_index`), which links
them. Used by the runner (`ssl_study.run.runner`), which re-exports these names."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from .. import config
from ..config import NOTEBOOKS

if TYPE_CHECKING:
    from nbformat import NotebookNode


#: the last state of a progress bar (tqdm): "fits (3 of 90 from the fit cache): 100%|####| 90/90 [01:02<00:00, ...]"
PROGRESS = re.compile(r"^.*\|\s*\d+/\d+ \[[^\]]*\]\s*$", re.M)


def without_progress(output: dict) -> dict | None:
    """A stream output without its progress bars (they say how a run went, not what it found), or None if nothing
    else was in it."""
    if output.get("output_type") != "stream":
        return output
    text = PROGRESS.sub("", output["text"]).strip("\n")
    if not text.strip():
        return None
    output["text"] = text + "\n"
    return output


def stable_table_ids(html: str, ids: dict[str, str] | None = None) -> str:
    """pandas gives every styled table a random id (``T_1a2b3``): number them in order of appearance instead, so that
    a re-run with the same results writes the same notebook and HTML. ``ids`` (random id -> number) is shared by every
    output of one notebook: each table keeps an id of its own on the page, and with it its own styles."""
    ids = {} if ids is None else ids
    return re.sub(r"\bT_([0-9a-f]{5})(?![0-9a-zA-Z])",
                  lambda m: "T_" + ids.setdefault(m.group(1), f"t{len(ids):04d}"), html)


def in_dataset_words_of(nb: NotebookNode, dataset) -> None:
    """A notebook's Markdown and title, written for MNIST (the default dataset), in ``dataset``'s words
    (`in_dataset_words`: its name, its noun for a class), in place."""
    from ..report.words import in_dataset_words

    nb.metadata["title"] = in_dataset_words(nb.metadata.get("title", ""), dataset)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = in_dataset_words(cell.source, dataset)


TEMPLATES = Path(__file__).with_name("templates")  #: ``report``: the notebooks' HTML pages (code folded)


def render_html(nb: NotebookNode, name: str) -> str:
    """A notebook as the HTML page a reader gets: the notebook's title as the page's title, every code cell folded
    into a "code" line that opens on a click (`TEMPLATES`), and the code of the cells tagged ``hide-input`` (prose
    computed from the results) left out, their output kept."""
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_input_tags = {"hide-input"}
    exporter = HTMLExporter(config=config, extra_template_basedirs=[str(TEMPLATES)], template_name="report")
    html, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": name}})
    back = ('<p style="margin:0.5em 0 0 7em;font-size:0.85em"><a href="index.html">The answer and the six '
            'notebooks</a></p>\n')  # every page leads back to the first
    return linked_documents(fold_appendix(html)).replace("<main>", "<main>\n" + back, 1)


def fold_appendix(html: str) -> str:
    """The page with everything from its "Appendix" heading on folded into one "Appendix" line that opens on a click:
    the story reads without it, the secondary material is one click away (a page without an appendix is unchanged)."""
    heading = html.find('<h2 id="Appendix"')
    start = html.rfind('<div class="jp-Cell ', 0, heading)  # the cell itself, not its inner wrappers
    end = html.rfind("</main>")
    if heading < 0 or start < 0 or end < heading:
        return html
    summary = ('<details class="appendix"><summary>Appendix: the secondary material, the checks and what the notebook '
               'saves (click to open)</summary>\n')
    return html[:start] + summary + html[start:end] + "</details>\n" + html[end:]


QUESTION = ("The course's assignment: pre-train the encoder of a very simple CNN on a Siamese task (are two augmented "
            "views from the same image?) with unlabelled MNIST images, fine-tune the CNN on 10 %, 20 %, ... 100 % of "
            "the labelled ones and compare it with the same CNN trained from scratch (a random 40 / 40 / 20 % split of "
            "the 70,000 images).")
#: the figure of the first page, the first that the run drew: the curve of each start tuned where labels are scarce
#: (notebook 5's), on which the answer rests where the addendum ran; else the assignment's curves (notebook 6's)
FRONT_FIGURES = ("05_tuned_accuracy.png", "06_accuracy_vs_labels.png")


def front_figure(figures: Path) -> Path | None:
    """The first page's figure in ``figures`` (`FRONT_FIGURES`), or None where the run drew none of them."""
    return next((figures / name for name in FRONT_FIGURES if (figures / name).exists()), None)


#: the documents the pages link to, rendered beside them: (source in the repository, page name, title)
DOCUMENTS = [("ANALYSIS_PLAN.md", "plan.html", "The analysis plan"),
             ("ANALYSIS_PLAN_ADDENDUM.md", "addendum.html", "The addendum to the analysis plan"),
             ("docs/glossary.md", "glossary.html", "Words used")]
STYLE = ("body{font-family:sans-serif;max-width:60em;margin:1.5em auto;line-height:1.4;padding:0 1em}"
         "li{margin:0.2em 0}table{border-collapse:collapse;margin:0.6em 0}td,th{padding:0.08em 0.6em;"
         "border-bottom:1px solid #ddd;text-align:right}th{text-align:center}td:first-child{text-align:left}"
         "td{white-space:nowrap}td:first-child{white-space:normal;min-width:18em}"
         "details.statistics{margin:0.8em 0}details.statistics p{margin:0.3em 0;color:#444;font-size:0.9em}"
         "p.answer{font-size:1.05em}pre{white-space:pre-wrap}ul.notebooks{list-style:none;padding-left:1em;columns:2}")


#: a document's tables hold text: left-aligned and wrapped within the page; its headings without the "¶" of their
#: anchor links
DOCUMENT_STYLE = "td,th{text-align:left;white-space:normal}td:first-child{min-width:0}a.anchor-link{display:none}"


def linked_documents(html: str) -> str:
    """A page's links to the repository's Markdown documents (`DOCUMENTS`, as a notebook in JupyterLab links them:
    ``../ANALYSIS_PLAN.md``) pointed at their rendered pages beside it (``plan.html``)."""
    for source, page, _ in DOCUMENTS:
        html = re.sub(rf'href="(\.\./)*{re.escape(source)}"', f'href="{page}"', html)
    return html


def write_documents(html_dir: Path) -> list[Path]:
    """The plan, its addendum and the glossary as pages beside the notebooks' (`DOCUMENTS`), so that a reader of the
    pages reads them rendered, not as plain text; their links to each other point at the rendered pages."""
    import html as html_lib

    from nbconvert.filters import markdown2html

    from ..report.words import in_dataset_words

    paths = []
    for source, page, title in DOCUMENTS:
        text = (config.ROOT / source).read_text(encoding="utf-8")
        if "ANALYSIS_PLAN" not in source:  # a frozen plan is quoted as committed; the glossary in the data's words
            text = in_dataset_words(text, config.get_dataset())
        body = linked_documents(markdown2html(text))
        path = html_dir / page
        path.write_text(f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>"
                        f"{html_lib.escape(title)}</title><style>{STYLE}{DOCUMENT_STYLE}</style></head><body>\n{body}\n"
                        f"<p><a href=\"index.html\">Back to the answer</a></p>\n</body></html>\n", encoding="utf-8")
        paths.append(path)
    return paths


def write_index(html_dir: Path, front_md: Path | None, figures: Path | None = None, profile_name: str = "full") -> Path:
    """``index.html``, the one page an examiner must read, in a minute: the question; the answer in two plain sentences,
    the accuracy-versus-labels figure at the page's width, the assignment's table and the other comparisons, the
    statistics folded one click away (notebook 6's ``front_page.md``); links to the plan, its addendum, the glossary
    (`write_documents`, written beside it) and each notebook's page, titled by the notebook (its ``title`` metadata;
    its ``summary`` shows on hover)."""
    import base64
    import html as html_lib

    import nbformat
    from nbconvert.filters import markdown2html

    from ..report.words import FIGURE, in_dataset_words

    def words(text: str) -> str:  # written for MNIST: another dataset's index in its own words
        return html_lib.escape(in_dataset_words(text, config.get_dataset()))

    links = []
    for name in NOTEBOOKS:
        meta = nbformat.read(config.PROJECT.notebooks / name, as_version=4).metadata
        links.append(f'<li><a href="{Path(name).with_suffix(".html").name}" title="{words(meta.get("summary", ""))}">'
                     f'{words(meta.get("title", name))}</a></li>')
    front = front_md.read_text() if front_md and front_md.exists() else ""
    figure = front_figure(figures) if figures else None
    image = (f'<img alt="Test accuracy against the number of labelled images" style="width:100%;display:block;'
             f'margin:0.4em auto" src="data:image/png;base64,{base64.b64encode(figure.read_bytes()).decode()}">'
             if figure and figure.exists() else "")
    sentences, _, rest = front.partition(FIGURE)
    said = markdown2html(sentences).replace("<p>", '<p class="answer">')
    answer = f"{said}\n{image}\n{markdown2html(rest)}"
    documents = ", ".join(f'<a href="{page}">{html_lib.escape(title.lower())}</a>' for _, page, title in DOCUMENTS)
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>Does self-supervised pre-training help a very simple CNN when labels are scarce?</title>"
            f"<style>{STYLE}</style></head><body>\n"
            "<h1>Does self-supervised pre-training help a very simple CNN when labels are scarce?</h1>\n"
            f"<p><em>{words(QUESTION)}</em></p>\n<h2>The answer</h2>\n{answer}\n"
            "<h2>The six notebooks</h2>\n<ul class=\"notebooks\">\n" + "\n".join(links) + "\n</ul>\n"
            f"<p>The rules it was judged by: {documents}.</p>\n"
            f"<p><small>Each page is a notebook executed top to bottom in the {profile_name} profile; its code is "
            "folded under each \"code\" line.</small></p>\n</body></html>\n")
    write_documents(html_dir)
    path = html_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
