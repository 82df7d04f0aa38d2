"""nbgrader configuration of the course (loaded by the repository root's nbgrader_config.py).

The grading settings close traps of nbgrader 0.9 that were measured on this repository; the tests in
tests/test_pipeline_grading.py prove each one. The last two sections set up handing in (the exchange, the
roster, due dates, the late policy) and the feedback page. docs/grading.md explains all of them.
"""

import sys
from pathlib import Path

import nbgrader

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # so nbgrader can import autograder.preprocessors

from autograder import settings  # noqa: E402

c = get_config()  # noqa: F821 (injected by the traitlets config loader)

# A marker that only this file sets: tests/test_pipeline_build.py checks it reached nbgrader, because a
# missing sub-config is silently ignored by traitlets' load_subconfig.
c.CourseDirectory.course_id = settings.COURSE_ID

# Layout: course root = repository root; instructors' notebooks in solutions/, releases in notebooks/;
# everything produced by grading in the git-ignored autograder/work/.
c.CourseDirectory.root = str(settings.ROOT)
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = str(settings.WORK_DIR / "submitted")
c.CourseDirectory.autograded_directory = str(settings.WORK_DIR / "autograded")
c.CourseDirectory.feedback_directory = str(settings.WORK_DIR / "feedback")
c.CourseDirectory.db_url = f"sqlite:///{settings.WORK_DIR / 'gradebook.db'}"
# The text source (aNN_name.py) stays with the instructor: the release folder holds the notebook only.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints",
    "*.pyc",
    "__pycache__",
    "feedback",
    ".*",
    "a[0-9][0-9]_*.py",
]

# Grading (docs/grading.md, "How a submission is graded"): nbgrader's Execute is replaced by the course's
# JudgeInSandbox. The notebook runs in a bubblewrap sandbox (autograder/sandbox.py) with the student edition
# of the library; a judge in this process, holding the reference and the checks, decides every test cell
# (autograder/judge.py) and writes the outputs that SaveAutoGrades scores. The command line, the pipeline
# and the formgrader's Autograde button all read this file, so they grade the same way.
c.Autograde.autograde_preprocessors = [
    "autograder.preprocessors.JudgeInSandbox",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.JudgeInSandbox.work = str(settings.WORK_DIR)
c.JudgeInSandbox.source = str(settings.SOURCE_DIR)
c.JudgeInSandbox.cell_timeout = settings.CELL_TIMEOUT_S
c.JudgeInSandbox.submission_timeout = settings.SUBMISSION_TIMEOUT_S

# A cell tagged 'skip-execution' would not run: the sanitising step strips every cell tag.
c.Autograde.sanitize_preprocessors = [
    "autograder.preprocessors.ApplyRosterAndDueDates",  # see "Handing in" below
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "autograder.preprocessors.StripCellTags",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# A deleted test cell would otherwise score as passed pending manual review; put it back.
c.OverwriteCells.add_missing_cells = True

# Keep autograded notebooks and feedback readable when a loop prints forever (the sandbox caps bytes too).
c.LimitOutput.max_lines = settings.MAX_OUTPUT_LINES
c.LimitOutput.max_traceback = settings.MAX_TRACEBACK_LINES

# Handing in (docs/grading.md, "Handing in"; autograder/exchange.py): nbgrader's exchange on one machine.
# Students fetch from and submit to a folder every account can write to; `nbgrader collect` puts the
# submissions (with their timestamp.txt) in autograder/work/collected/, the folder to autograde. It must
# differ from the grader's own copies in autograder/work/submitted/ (the pipeline replaces those).
c.Exchange.root = "/srv/nbgrader/exchange"
c.Exchange.timezone = "UTC"
c.CourseDirectory.submitted_directory = str(settings.WORK_DIR / "collected")
# The class: a CSV (id,first_name,last_name,email, the format of `nbgrader db student import`) kept out of
# git, e.g. str(settings.WORK_DIR / "roster.csv"). With a roster, a submission from any other id is not
# graded (its row is an error, nbgrader's log says "not on the class roster"); empty, anyone is graded
# (the sample class of the demo).
c.ApplyRosterAndDueDates.roster = ""
# The term's due dates, assignment -> "YYYY-MM-DD HH:MM:SS TZ", e.g.
# {"a01_linear_models": "2027-02-08 23:59:00 UTC", "a02_backprop_modules": "2027-02-22 23:59:00 UTC"}.
# A submission's timestamp.txt (written by `nbgrader submit`) after its due date costs the late penalty.
c.ApplyRosterAndDueDates.due_dates = {}
# Late policy: each day started after the due date costs 10 % of the notebook's score, down to zero.
c.AssignLatePenalties.plugin_class = "autograder.exchange.LatePenaltyPerDay"
c.LatePenaltyPerDay.percent_per_day = 10.0

# Feedback (docs/grading.md, "Feedback"): a table of the exercises on top (SummariseExercises), maths
# rendered to MathML when the feedback is generated (MathToMathML; the page loads no MathJax and no CDN),
# neither hidden test source nor tracebacks (only the error's one-line message), and every piece of
# student-controlled HTML sanitised (markdown cells too, which nbgrader's template leaves raw). The
# template is autograder/templates/course_feedback/, an extension of nbgrader's; nested under
# GenerateFeedback so that the formgrader's own pages keep theirs.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "autograder.preprocessors.HideHiddenTestsAndTracebacks",
    "autograder.preprocessors.SummariseExercises",
    "autograder.preprocessors.MathToMathML",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
FORMGRADER = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
c.GenerateFeedback.HTMLExporter.template_name = "course_feedback"
c.GenerateFeedback.HTMLExporter.extra_template_basedirs = [
    str(ROOT / "autograder" / "templates"),
    str(FORMGRADER / "templates"),
]
# where {% extends 'feedback/index.html.j2' %} and nbgrader's include_css('bootstrap.min.css') look
c.GenerateFeedback.HTMLExporter.extra_template_paths = [
    str(FORMGRADER / "templates"),
    str(FORMGRADER / "static" / "node_modules" / "bootstrap" / "dist" / "css"),
]
c.GenerateFeedback.HTMLExporter.sanitize_html = True
c.GenerateFeedback.HTMLExporter.filters = {"clean_html": "autograder.preprocessors.clean_html"}
