"""Source notebooks store outputs exactly where nbval compares them: on every visible test, nowhere else."""

from pathlib import Path

import nbformat
import pytest

from autograder.source import CHECK_OUTPUT_TAG

SOURCES = sorted(Path(__file__).resolve().parents[1].glob("solutions/*/*.ipynb"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_visible_tests_carry_their_checked_outputs_and_other_cells_none(path):
    nb = nbformat.read(str(path), as_version=4)
    visible = 0
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        checked = CHECK_OUTPUT_TAG in cell.metadata.get("tags", [])
        if grade_id.endswith("_visible"):
            visible += 1
            assert checked, f"cell {i} ({grade_id}) is a visible test without the {CHECK_OUTPUT_TAG} tag"
            assert cell.outputs and cell.execution_count, f"cell {i} ({grade_id}) has no stored output"
        elif not checked:
            assert not cell.outputs, f"cell {i} stores outputs that nbval never compares (plots, timings)"
    assert visible > 0


def test_every_assignment_has_a_source_notebook():
    assert {p.parent.name for p in SOURCES} >= {
        "a01_linear_models",
        "a02_backprop_modules",
        "a03_mini_tensorflow",
        "a04_training_deep_nets",
        "a05_convnets",
        "a09_gpu_kernels",
    }
