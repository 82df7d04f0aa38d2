"""nbgrader preprocessors of the course (named in autograder/nbgrader_config.py), the feedback's sanitiser.

Autograding: ``JudgeInSandbox`` (in place of nbgrader's Execute: autograder/judge.py), ``StripCellTags``
(sanitising step), ``ApplyRosterAndDueDates`` (the class roster and due dates
of the config reach the gradebook before nbgrader computes the late penalty).
Feedback: ``HideHiddenTestsAndTracebacks``, ``SummariseExercises`` (the table on top of the page),
``MathToMathML`` (maths rendered when the feedback is generated, so the page needs no MathJax), and
``clean_html``, the filter the feedback template sanitises student-controlled HTML with.

They derive from nbgrader's base class because it is *enabled* by default: a plain nbconvert
Preprocessor registered by name is silently skipped unless ``enabled`` is set (measured: the feedback
kept the hidden tests until this was fixed; tests/test_pipeline_checks.py guards it).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import bleach
import nbformat
from latex2mathml.converter import convert as latex_to_mathml_string
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Dict, Float, Integer, Unicode

from autograder import exchange, settings

HIDDEN_TESTS = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", re.DOTALL)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class StripCellTags(NbGraderPreprocessor):
    """Remove every cell tag before execution, so no tag can change how a cell runs (e.g. skip-execution)."""

    def preprocess_cell(self, cell, resources, index):
        cell.metadata.pop("tags", None)
        return cell, resources


class JudgeInSandbox(NbGraderPreprocessor):
    """In place of nbgrader's ``Execute``: the notebook runs in the sandbox, the judge decides every test.

    Configured in ``autograder/nbgrader_config.py``, so ``nbgrader autograde`` from the command line, the
    pipeline's ``autograde`` and the formgrader's Autograde button all grade this way. The judged result
    is cached by the notebook's content hash under ``<work>/judged/``: grading the same submission again
    (or after ``autograde --workers``/``--scheduler`` judged it in parallel) gives the same outputs and
    scores. Each run also leaves ``<work>/judged/students/<student>/<assignment>/<notebook>.json``, the
    status (graded, timeout, out-of-memory, crashed, refused) and notes the pipeline reports.
    """

    work = Unicode(str(settings.WORK_DIR), help="the grader's work folder (cache, secret, editions)").tag(
        config=True
    )
    source = Unicode(str(settings.SOURCE_DIR), help="the instructor's solutions/ folder").tag(config=True)
    unsafe = Bool(False, help="grade without a sandbox (only where none can be made; says so)").tag(
        config=True
    )
    cell_timeout = Float(settings.CELL_TIMEOUT_S, help="seconds per cell").tag(config=True)
    submission_timeout = Float(settings.SUBMISSION_TIMEOUT_S, help="seconds per run of a notebook").tag(
        config=True
    )
    memory = Integer(settings.SANDBOX_MEMORY_BYTES, help="bytes of memory for the notebook's processes").tag(
        config=True
    )

    def preprocess(self, nb, resources):
        from autograder import judging

        info = resources["nbgrader"]
        result = judging.judge_cached(
            nb,
            info["assignment"],
            info["notebook"],
            work=Path(self.work),
            source=Path(self.source),
            limits=judging.limits(self.cell_timeout, self.submission_timeout, self.memory),
            unsafe=self.unsafe,
        )
        judging.write_status(Path(self.work), info["student"], info["assignment"], info["notebook"], result)
        for cell, judged in zip(nb.cells, result.notebook["cells"], strict=True):
            if cell.cell_type == "code":
                cell.outputs = nbformat.from_dict(judged.get("outputs", []))
                cell.execution_count = judged.get("execution_count")
        return nb, resources


class ApplyRosterAndDueDates(NbGraderPreprocessor):
    """Before a submission is graded: refuse a student who is not on the roster, record the roster's names
    and the assignment's due date in the gradebook (nbgrader 0.9 has no config for either; its late
    penalty, computed after execution, reads the due date from there). See autograder/exchange.py."""

    roster = Unicode("", help="CSV of the class (id,first_name,last_name,email); empty: any student").tag(
        config=True
    )
    due_dates = Dict(
        value_trait=Unicode(), help="assignment -> due date, e.g. '2026-10-05 23:59:00 UTC'"
    ).tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        exchange.apply_roster_and_due_dates(
            info["db_url"],
            info["assignment"],
            info["student"],
            exchange.read_roster(self.roster) if self.roster else None,
            self.due_dates,
        )
        return nb, resources


# ---- sanitising as nbgrader does (the same steps, for the judge's parallel batch) ------------------------


def sanitise(nb, assignment: str, notebook: str, student: str, db_url: str):
    """``nb`` as ``nbgrader autograde`` hands it to its first autograde preprocessor (the test cells and
    locked cells from the gradebook, missing test cells added, tags stripped)."""
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearOutput,
        DeduplicateIds,
        OverwriteCells,
        OverwriteKernelspec,
    )

    resources = {
        "nbgrader": {"assignment": assignment, "notebook": notebook, "student": student, "db_url": db_url}
    }
    steps = [
        ClearOutput(),
        DeduplicateIds(),
        OverwriteKernelspec(),
        OverwriteCells(add_missing_cells=True),
        StripCellTags(),
        CheckCellMetadata(),
    ]
    for step in steps:
        nb, resources = step.preprocess(nb, resources)
    return nb


# ------------------------------------------------------------------------------------------------------
# feedback
# ------------------------------------------------------------------------------------------------------


class HideHiddenTestsAndTracebacks(NbGraderPreprocessor):
    """For feedback: hidden test code becomes a note, every traceback its last line (type: message)."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        cell.source = HIDDEN_TESTS.sub("# (hidden tests: their code is not shown)", cell.source)
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                message = f"{output.ename}: {output.evalue}" if output.evalue else output.ename
                output.traceback = [ANSI.sub("", message)]
        return cell, resources


TEST_KIND = re.compile(r"(?P<exercise>.+)_(?P<kind>visible|hidden)")
SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def exercise_of(grade_id: str) -> tuple[str, str]:
    """'affine_forward_hidden' -> ('affine_forward', 'hidden'); an id without the suffix is its own test."""
    match = TEST_KIND.fullmatch(grade_id)
    return (match["exercise"], match["kind"]) if match else (grade_id, "test")


def one_sentence(text: str, limit: int = 200) -> str:
    """The first sentence of the first line of ``text``, at most ``limit`` characters."""
    line = ANSI.sub("", text).strip().splitlines()[0] if text.strip() else ""
    sentence = SENTENCE_END.split(line, maxsplit=1)[0]
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"


def failure_reason(cell) -> str:
    """Why a test cell lost points, in one sentence, from its error output."""
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            if output.ename == "NotImplementedError":  # the released stub, or a stubbed library function
                return "not answered yet (NotImplementedError)"
            message = f"{output.ename}: {output.evalue}" if output.evalue.strip() else output.ename
            return one_sentence(message)
    return "no error was shown: the instructor grades this one by hand"


def duration(seconds: float) -> str:
    """A lateness for people: '9 s', '25 min', '3.5 h', '2.1 days'."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _points(x: float) -> str:
    return f"{round(float(x), 2):g}"


class SummariseExercises(NbGraderPreprocessor):
    """For feedback: ``resources['exercises']``, one row per exercise for the table on top of the page.

    The tests of an exercise are its grade ids ``<exercise>_visible`` and ``<exercise>_hidden`` (the course's
    convention); a row holds each test's points got / possible, the total, and why points were lost (the
    first failing test's error in one sentence). ``resources['late_by']`` says how late a penalised
    submission was. Runs after GetGrades, which puts the scores on the cells and the penalty in resources.
    """

    def preprocess(self, nb, resources):
        rows: dict[str, dict] = {}
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if not meta.get("grade") or "score" not in meta:
                continue
            name, kind = exercise_of(meta["grade_id"])
            row = rows.setdefault(
                name, {"name": name, "anchor": meta["grade_id"], "tests": {}, "score": 0.0, "points": 0.0}
            )
            score, points = float(meta["score"] or 0), float(meta["points"] or 0)
            row["tests"][kind] = f"{_points(score)} / {_points(points)}"
            row["score"] += score
            row["points"] += points
            if score < points and "reason" not in row:
                row["reason"], row["anchor"] = failure_reason(cell), meta["grade_id"]
        for row in rows.values():
            row["passed"] = row["score"] >= row["points"]
            row.setdefault("reason", "all tests passed")
            row["total"] = f"{_points(row['score'])} / {_points(row['points'])}"
        resources["exercises"] = list(rows.values())
        info = resources.get("nbgrader", {})
        if info.get("late_penalty"):
            with Gradebook(info["db_url"]) as gb:
                seconds = gb.find_submission(info["assignment"], info["student"]).total_seconds_late
            resources["late_by"] = duration(seconds)
        return nb, resources


# Maths -----------------------------------------------------------------------------------------------

# fenced code blocks, then code spans (any run of backticks, across lines but not across a blank line)
CODE = re.compile(
    r"^[ \t]*(?P<fence>```|~~~).*?^[ \t]*(?P=fence)[ \t]*$|(?P<ticks>`+)(?:(?!\n[ \t]*\n).)+?(?P=ticks)(?!`)",
    re.DOTALL | re.MULTILINE,
)
PARAGRAPH = r"(?:[^$\n]|\n(?![ \t]*\n))"  # any character but $, within one paragraph
MATH = re.compile(rf"\$\$(?P<block>{PARAGRAPH}+?)\$\$|(?<![\\$])\$(?P<inline>{PARAGRAPH}+?)(?<!\\)\$")
TEX_TEXT_ESCAPE = re.compile(r"\\([_%&#$])")  # \text{fan\_in}: latex2mathml keeps the backslash
TEXT_NODE = re.compile(r">([^<]+)<")
# characters that markdown would read inside the MathML's text (emphasis, code, links, tables, escapes)
MARKDOWN_SPECIAL = str.maketrans({ch: f"&#{ord(ch)};" for ch in "*_`[]~|\\$"})


def latex_to_mathml(tex: str, display: bool) -> str:
    """One formula as a single line of MathML that markdown passes through; LaTeX it cannot convert is shown
    as code (never left for a script to typeset)."""
    try:
        mathml = latex_to_mathml_string(tex, display="block" if display else "inline")
    except Exception:  # noqa: BLE001 (any converter failure has the same fallback)
        return f'<code class="tex">{html.escape(tex).translate(MARKDOWN_SPECIAL)}</code>'
    mathml = TEX_TEXT_ESCAPE.sub(r"\1", mathml).replace("\n", " ")
    mathml = mathml.replace(' xmlns="http://www.w3.org/1998/Math/MathML"', "", 1)
    alt = html.escape(" ".join(tex.split())).translate(MARKDOWN_SPECIAL)
    mathml = mathml.replace("<math ", f'<math alttext="{alt}" ', 1)
    return TEXT_NODE.sub(lambda m: ">" + m[1].translate(MARKDOWN_SPECIAL) + "<", mathml)


def _formula(match: re.Match) -> str:
    block = match["block"] is not None
    return latex_to_mathml(match["block"] if block else match["inline"], display=block)


def render_math(markdown: str) -> str:
    """Replace ``$...$`` and ``$$...$$`` outside code spans and fences by MathML."""
    out, pos = [], 0
    for code in CODE.finditer(markdown):
        out += [MATH.sub(_formula, markdown[pos : code.start()]), code[0]]
        pos = code.end()
    return "".join([*out, MATH.sub(_formula, markdown[pos:])])


class MathToMathML(NbGraderPreprocessor):
    """For feedback: LaTeX in markdown cells and ``text/latex`` outputs becomes MathML (Chromium, Firefox and
    Safari render it natively), so the page shows formulas offline and loads no MathJax."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown":
            cell.source = render_math(cell.source)
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            latex = data.get("text/latex", "").strip()
            if latex.startswith("$") and latex.endswith("$") and "text/html" not in data:
                data["text/html"] = render_math(latex)
        return cell, resources


# Sanitising ------------------------------------------------------------------------------------------

HTML_TAGS = {
    *bleach.ALLOWED_TAGS,
    *"p div span br hr pre code kbd samp sup sub del s ins small dl dt dd".split(),
    *"h1 h2 h3 h4 h5 h6 table thead tbody tfoot tr th td caption img figure figcaption".split(),
}
MATHML_TAGS = set(
    "math semantics annotation mrow mi mn mo ms mtext mspace msup msub msubsup mfrac msqrt mroot mover "
    "munder munderover mtable mtr mtd mstyle mpadded mphantom menclose merror mmultiscripts mprescripts "
    "none".split()
)
MATHML_ATTRIBUTES = (
    "display alttext mathvariant stretchy fence separator form accent accentunder lspace rspace minsize "
    "maxsize largeop movablelimits symmetric linethickness displaystyle scriptlevel columnalign "
    "columnspacing rowspacing columnlines rowlines frame width height depth notation linebreak encoding"
).split()


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if name in ("class", "id", "title"):
        return True
    if tag in MATHML_TAGS:
        return name in MATHML_ATTRIBUTES
    if tag == "a":
        return name == "href" and not value.strip().lower().startswith("data:")
    if tag == "img":
        return name in ("src", "alt", "width", "height")
    if tag in ("td", "th"):
        return name in ("colspan", "rowspan", "align")
    return False


def clean_html(element) -> str:
    """Student-controlled HTML (markdown cells, HTML outputs) without scripts, event handlers, styles or
    ``javascript:`` links; what markdown produces, tables, images (also ``data:``) and MathML stay.

    Replaces nbconvert's ``clean_html``, whose allow-list escapes ``<p>`` and headings into visible text.
    """
    element = element.decode() if isinstance(element, bytes) else str(element)
    return bleach.clean(
        element,
        tags=HTML_TAGS | MATHML_TAGS,
        attributes=_allowed_attribute,
        protocols=[*bleach.ALLOWED_PROTOCOLS, "data"],
        strip_comments=True,
    )
