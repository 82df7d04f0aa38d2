"""The feedback page: an exercise table on top, maths that renders offline, no script, clean student HTML.

One a01 submission is graded and its feedback generated (about 40 s): four answers right, ``linear_predict``
twice too large (its visible test fails with a message), the rest left as released, plus student-made HTML
(a script, an ``onerror`` handler, a ``javascript:`` link, a ``Javascript`` output) that must not survive
as anything live. The pure helpers of autograder/preprocessors.py are tested without nbgrader.
"""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser

import nbformat
import pytest

from autograder import pipeline, preprocessors, samples, settings

pytestmark = pytest.mark.a01  # the submission it grades
A01 = "a01_linear_models"
PAYLOAD = (
    "\nfrom IPython.display import HTML, Javascript, display\n"
    'display(HTML(\'<b id="student-html">bold</b><script>window.pwned = 1</script>'
    '<img src=x onerror="window.pwned = 2">\'))\n'
    "display(Javascript('window.pwned = 3'))\n"
)
STUDENT_MARKDOWN = (
    "My note: <script>window.pwned = 4</script> [a link](javascript:window.pwned=5) and $a^2 + b^2$."
)


class _MarkdownText(HTMLParser):
    """The text of the rendered markdown cells (inside ``text_cell_render``), code spans left out."""

    def __init__(self):
        super().__init__()
        self.depth, self.code, self.text = 0, 0, []

    def handle_starttag(self, tag, attrs):
        if self.depth or "text_cell_render" in (dict(attrs).get("class") or ""):
            self.depth += tag not in ("br", "img", "hr", "mspace")
            self.code += tag == "code"

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1
            self.code -= tag == "code"

    def handle_data(self, data):
        if self.depth and not self.code:
            self.text.append(data)


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> str:
    base = tmp_path_factory.mktemp("feedback")
    source = base / "solutions"
    shutil.copytree(settings.SOURCE_DIR / A01, source / A01)
    paths = pipeline.Paths(
        work=base / "work", out=base / "out", release=base / "release", dist=base / "dist", source=source
    )
    release = nbformat.read(pipeline.generate_release(A01, paths), as_version=4)
    source_nb = nbformat.read(source / A01 / f"{A01}.ipynb", as_version=4)
    answers = samples.answer_ids(source_nb)
    nb = samples.fill(release, source_nb, answers[:5])
    solved = samples.solved_sources(source_nb)
    samples.set_answer(nb, "linear_features", solved["linear_features"] + PAYLOAD)
    samples.set_answer(
        nb, "linear_predict", solved["linear_predict"].replace("return X @ w", "return 2 * (X @ w)")
    )
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(STUDENT_MARKDOWN))
    samples.write_submissions(base / "submitted", A01, {"zoe": nb})
    rows = pipeline.autograde(
        base / "submitted",
        paths,
        cell_timeout=60,
        submission_timeout=300,
        release_first=False,
        log=lambda s: None,
    )
    assert [r.status for r in rows] == ["graded"], rows
    (made,) = pipeline.feedback(paths, rows)
    return made.read_text()


def _summary(page: str) -> dict[str, list[str]]:
    """Exercise name -> the cells of its row in the table on top."""
    table = re.search(r'<table class="exercises".*?</table>', page, re.DOTALL)[0]
    rows = {}
    for row in re.findall(r"<tr class=\"(?:passed|failed)\">(.*?)</tr>", table, re.DOTALL):
        cells = [
            re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)
        ]
        rows[cells[0]] = cells[1:]
    return rows


def test_summary_names_every_exercise_with_points_got_and_possible_and_a_reason(page):
    rows = _summary(page)
    assert list(rows) == [
        "linear_features",
        "polynomial_features",
        "sin_features",
        "linear_predict",
        "squared_loss",
        "gradient_descent",
        "ridge_loss",
        "ridge_closed_form",
        "select_degree",
    ]
    assert rows["polynomial_features"] == ["1 / 1", "2 / 2", "3 / 3", "all tests passed"]
    visible, hidden, total, reason = rows["linear_predict"]
    assert (visible, hidden, total) == ("0 / 1", "0 / 1", "0 / 2")
    # the visible test's message, its first sentence only (the hint is the second)
    assert reason.startswith("AssertionError: ") and "wrong" in reason and "Hint" not in reason
    assert rows["ridge_loss"] == ["0 / 2", "0 / 2", "0 / 4", "not answered yet (NotImplementedError)"]
    assert "Test cell" not in page
    assert re.search(r"Total</td>\s*<td class=\"points\">11 / 26</td>", page)


def test_page_loads_nothing_from_the_network_and_runs_no_script(page):
    assert "<script" not in page.lower()
    assert not re.search(r"""<(?:script|link|img|iframe)[^>]+(?:src|href)=["']?(?:https?:)?//""", page, re.I)
    assert "mathjax" not in re.sub(r"<!--.*?-->", "", page, flags=re.DOTALL).lower()


def test_maths_is_mathml_and_no_raw_latex_is_left_in_the_prose(page):
    release = nbformat.read(settings.RELEASE_DIR / A01 / f"{A01}.ipynb", as_version=4)
    formulas = sum(
        len(preprocessors.MATH.findall(c.source)) for c in release.cells if c.cell_type == "markdown"
    )
    assert formulas > 50
    assert page.count("<math ") >= formulas + 1  # + the student's own $a^2 + b^2$
    parser = _MarkdownText()
    parser.feed(page)
    prose = "".join(parser.text)
    assert "$" not in prose and "\\frac" not in prose and "\\hat" not in prose


def test_student_html_is_sanitised(page):
    assert "&lt;script&gt;window.pwned = 1&lt;/script&gt;" in page  # the output's script is text
    assert "&lt;script&gt;window.pwned = 4&lt;/script&gt;" in page  # and so is the markdown cell's
    assert not re.search(r"<[a-z]+[^>]*\son[a-z]+=", page, re.I)  # no event handler on any element
    assert not re.search(r"href=[\"']?javascript:", page, re.I)
    assert '<b id="student-html">bold</b>' in page  # harmless markup stays


def test_hidden_tests_stay_hidden(page):
    assert "hidden tests: their code is not shown" in page and "BEGIN HIDDEN TESTS" not in page


# --- the pure helpers ------------------------------------------------------------------------------


def test_grade_ids_name_the_exercise_and_the_kind_of_test():
    assert preprocessors.exercise_of("affine_forward_hidden") == ("affine_forward", "hidden")
    assert preprocessors.exercise_of("affine_forward_visible") == ("affine_forward", "visible")
    assert preprocessors.exercise_of("test-linear") == ("test-linear", "test")


def test_reason_is_the_first_sentence_of_the_first_line():
    text = "AssertionError: y_hat is wrong at index (0,): got 2.5, expected 1.25. Hint: check X @ w.\nmore"
    assert (
        preprocessors.one_sentence(text)
        == "AssertionError: y_hat is wrong at index (0,): got 2.5, expected 1.25."
    )
    assert len(preprocessors.one_sentence("x" * 500)) == 200


def test_render_math_leaves_code_alone_and_handles_escaped_text():
    out = preprocessors.render_math("`$x$` and `np.dot(a,\nb)` cost $\\text{fan\\_in} \\cdot w^*$\n\n$$a_b$$")
    assert out.startswith("`$x$` and `np.dot(a,\nb)` cost <math ")
    assert "<mtext>fan&#95;in</mtext>" in out  # \_ is an underscore in text; markdown sees an entity
    assert 'display="block"' in out and "$" not in out.replace("`$x$`", "")
    assert "*" not in re.sub(r'alttext="[^"]*"', "", out)  # markdown must not see emphasis in the maths


def test_clean_html_keeps_mathml_and_markdown_markup_and_drops_anything_live():
    mathml = preprocessors.latex_to_mathml("\\frac{1}{N}", display=False)
    dirty = (
        f"<h2 id='x'>T</h2><p>{mathml}<img src='data:image/png;base64,AA' onerror='evil()'>"
        "<a href='javascript:evil()'>j</a><a href='https://example.org'>ok</a><script>evil()</script></p>"
    )
    clean = preprocessors.clean_html(dirty)
    assert "<mfrac>" in clean and "<h2" in clean and "<p>" in clean
    assert 'src="data:image/png;base64,AA"' in clean and "onerror" not in clean
    assert "javascript:" not in clean and 'href="https://example.org"' in clean
    assert "<script>" not in clean and "&lt;script&gt;" in clean


def test_feedback_preprocessors_are_enabled_and_configured_in_order():
    from traitlets.config.loader import PyFileConfigLoader

    for pp in (preprocessors.SummariseExercises(), preprocessors.MathToMathML()):
        assert pp.enabled, f"{type(pp).__name__} would be skipped by nbconvert"
    config = PyFileConfigLoader("nbgrader_config.py", path=str(settings.ROOT)).load_config()
    names = [p.rsplit(".", 1)[1] for p in config.GenerateFeedback.preprocessors]
    assert names.index("GetGrades") < names.index("SummariseExercises")  # it reads GetGrades' scores
    assert config.GenerateFeedback.HTMLExporter.template_name == "course_feedback"
    assert config.GenerateFeedback.HTMLExporter.sanitize_html is True


def test_latex_the_converter_cannot_read_is_shown_as_code_not_as_markdown():
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    page = markdown2html_mistune(preprocessors.render_math("see $a_1 * \\frac{$ here and *b*"))
    assert '<code class="tex">a_1 * \\frac{</code>' in page and "<em>b</em>" in page
