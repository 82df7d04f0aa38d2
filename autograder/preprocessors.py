"""nbgrader preprocessors the course adds (named in autograder/nbgrader_config.py)."""

from __future__ import annotations

import re

from nbconvert.preprocessors import Preprocessor

HIDDEN_TESTS = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", re.DOTALL)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class StripCellTags(Preprocessor):
    """Remove every cell tag before execution, so no tag can change how a cell runs (e.g. skip-execution)."""

    def preprocess_cell(self, cell, resources, index):
        cell.metadata.pop("tags", None)
        return cell, resources


class HideHiddenTestsAndTracebacks(Preprocessor):
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
