"""nbgrader preprocessors the course adds (named in autograder/nbgrader_config.py).

They derive from nbgrader's base class because it is *enabled* by default: a plain nbconvert
Preprocessor registered by name is silently skipped unless ``enabled`` is set (measured: the feedback
kept the hidden tests until this was fixed; tests/test_pipeline_checks.py guards it).
"""

from __future__ import annotations

import re

from nbgrader.preprocessors import NbGraderPreprocessor

HIDDEN_TESTS = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", re.DOTALL)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class StripCellTags(NbGraderPreprocessor):
    """Remove every cell tag before execution, so no tag can change how a cell runs (e.g. skip-execution)."""

    def preprocess_cell(self, cell, resources, index):
        cell.metadata.pop("tags", None)
        return cell, resources


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
