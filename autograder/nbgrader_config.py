"""nbgrader configuration of the course (loaded by the repository root's nbgrader_config.py).

Every setting below closes a trap of nbgrader 0.9 that was measured on this repository; the tests in
tests/test_pipeline_traps.py prove each one (docs/grading.md explains them).
"""

import secrets
import sys
from pathlib import Path

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

# Trap 1: any stderr output in a test cell scores it zero, and a harmless DeprecationWarning (NumPy,
# matplotlib, the student's own code) goes to stderr. Drop stderr streams that are warnings.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"(?m)^.*Warning: "

# Trap 2: a cell tagged 'skip-execution' is not run, so a test cell tagged by the student would pass.
# The skip tag becomes an unguessable per-run value, and the sanitising step strips all cell tags.
c.Execute.skip_cells_with_tag = "never-skip-" + secrets.token_hex(16)
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "autograder.preprocessors.StripCellTags",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# Trap 3: the kernel starts in the submission's folder, so a numpy.py or course/ there would shadow the
# real package. ignore_cwd keeps that folder off sys.path (the grader also sets PYTHONSAFEPATH=1).
c.Execute.extra_arguments = ["--HistoryManager.hist_file=:memory:", "--InteractiveShellApp.ignore_cwd=True"]

# Trap 4: a deleted test cell would otherwise score as passed pending manual review; put it back.
c.OverwriteCells.add_missing_cells = True

# Time limits: per cell here; per submission in autograder.pipeline (a subprocess per student).
c.Execute.timeout = settings.CELL_TIMEOUT_S
c.Execute.interrupt_on_timeout = True

# Keep autograded notebooks and feedback readable when a loop prints forever.
c.LimitOutput.max_lines = settings.MAX_OUTPUT_LINES
c.LimitOutput.max_traceback = settings.MAX_TRACEBACK_LINES

# Feedback shows neither hidden test source nor tracebacks (only the error's one-line message).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "autograder.preprocessors.HideHiddenTestsAndTracebacks",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
