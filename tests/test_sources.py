"""The text sources are the one place an assignment is written: the notebooks are builds of them, and each
answer cell's solution is the library's graded region, character for character."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import nbformat
import pytest

from autograder import settings, source
from autograder.editions import library_regions

ASSIGNMENTS = settings.available_assignments()
ROOT = settings.ROOT
LINE_LIMIT = 110


def _committed(assignment: str):
    return nbformat.read(str(source.notebook_path(assignment)), as_version=4)


def test_the_six_live_assignments_have_text_sources_and_no_generators_are_left():
    assert set(ASSIGNMENTS) >= {
        "a01_linear_models",
        "a02_backprop_modules",
        "a03_mini_tensorflow",
        "a04_training_deep_nets",
        "a05_convnets",
        "a09_gpu_kernels",
    }
    assert not (ROOT / "autograder" / "generators").exists(), "notebook text must not live in Python strings"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_notebook_is_a_build_of_its_text_source(assignment):
    """Cell for cell, metadata and ids included; the stored outputs are checked by nbval on every run."""
    assert source.is_current(assignment), (
        f"solutions/{assignment}/{assignment}.ipynb is not the build of {assignment}.py: run "
        f"python -m autograder build {assignment} (or, after editing the .ipynb in JupyterLab, "
        f"python -m autograder sync {assignment} first)"
    )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_solution_block_is_the_text_of_its_library_region(assignment):
    regions = source.region_texts()
    blocks = source.solution_regions(_committed(assignment))
    assert blocks, f"{assignment} has no answer cells"
    for grade_id, region, text in blocks:
        assert region, f"{assignment} cell {grade_id}: a solution block without its region's name"
        assert text == regions[region].text, f"{assignment} cell {grade_id} differs from {region}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_graded_region_of_the_assignment_is_an_answer_in_its_notebook_once(assignment):
    number = settings.assignment_number(assignment)
    graded = {
        f"a{r.assignment:02d}.{r.task}"
        for r in library_regions()
        if r.assignment == number and r.kind == "GRADED"
    }
    used = [region for _, region, _ in source.solution_regions(_committed(assignment))]
    assert sorted(used) == sorted(set(used)), f"a region is filled into two answer cells: {used}"
    assert set(used) == graded, f"graded in the library but not in the notebook: {sorted(graded - set(used))}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_text_source_holds_no_solution_and_is_in_canonical_form(assignment):
    text = source.source_path(assignment).read_text()
    for grade_id, region, body in source.solution_regions(source.read_source(assignment)):
        assert region and not body.strip(), f"{assignment} cell {grade_id}: solution text in the source"
    assert source.is_canonical(text), f"{assignment}.py is not in jupytext's canonical form: run sync"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_text_source_lines_fit_110_characters_except_cell_headers(assignment):
    long = [
        (i, len(line))
        for i, line in enumerate(source.source_path(assignment).read_text().splitlines(), start=1)
        if len(line) > LINE_LIMIT and not line.startswith("# %%")
    ]
    assert not long, f"{assignment}.py lines over {LINE_LIMIT} characters (line, length): {long[:5]}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_text_source_is_no_longer_than_the_notebooks_cell_text(assignment):
    """Counting the lines that hold text: a cell header stands where the notebook has a cell boundary."""
    lines = source.source_path(assignment).read_text().splitlines()
    source_lines = sum(1 for line in lines if line.strip() and not line.startswith("# %%"))
    cell_lines = sum(
        1 for c in _committed(assignment).cells for line in c.source.splitlines() if line.strip()
    )
    assert source_lines <= cell_lines


# ---- the build and the sync on a scratch copy ------------------------------------------------------------

LIBRARY = '''\
def double(x):
    """2 x."""
    # BEGIN GRADED a01.double
    y = 2 * x  # scaled
    return y
    # END GRADED
'''

SOURCE = '''\
# %% [markdown]
# Double a number.

# %% nbgrader={"grade": false, "grade_id": "double", "locked": false, "schema_version": 3, "solution": true}
def double(x):
    """Notebook docstring."""
    ### BEGIN SOLUTION a01.double
    ### END SOLUTION
'''


@pytest.fixture
def scratch(tmp_path):
    library = tmp_path / "course"
    library.mkdir()
    (library / "double.py").write_text(LIBRARY)
    folder = tmp_path / "solutions" / "a01_linear_models"
    folder.mkdir(parents=True)
    (folder / "a01_linear_models.py").write_text(SOURCE)
    return tmp_path


def _dirs(scratch: Path) -> dict:
    return {"source_dir": scratch / "solutions", "library": scratch / "course"}


def test_build_fills_the_region_at_the_markers_indentation_and_sync_restores_the_source(scratch):
    path = source.build("a01_linear_models", execute=False, **_dirs(scratch))
    nb = nbformat.read(str(path), as_version=4)
    assert nb.cells[1].source == textwrap.dedent(
        '''\
        def double(x):
            """Notebook docstring."""
            ### BEGIN SOLUTION a01.double
            y = 2 * x  # scaled
            return y
            ### END SOLUTION'''
    )
    assert nb.cells[1].id == "double" and nb.metadata["kernelspec"]["name"] == "python3"
    (scratch / "solutions/a01_linear_models/a01_linear_models.py").write_text("# %%\n1\n")
    assert source.sync("a01_linear_models", **_dirs(scratch)) == []
    assert (scratch / "solutions/a01_linear_models/a01_linear_models.py").read_text() == SOURCE


def test_sync_refuses_an_edited_solution_unless_told_to_write_it_into_the_library(scratch):
    path = source.build("a01_linear_models", execute=False, **_dirs(scratch))
    nb = nbformat.read(str(path), as_version=4)
    nb.cells[1].source = nb.cells[1].source.replace("y = 2 * x  # scaled", "y = x + x  # twice")
    nb.cells[0].source = "Double a number (edited in JupyterLab)."
    nbformat.write(nb, str(path))
    with pytest.raises(source.SourceError, match=r"double.*differs from the library's region a01\.double"):
        source.sync("a01_linear_models", **_dirs(scratch))
    assert "y = 2 * x" in (scratch / "course/double.py").read_text(), "a refused sync changed the library"
    assert source.sync("a01_linear_models", update_library=True, **_dirs(scratch)) == ["a01.double"]
    assert (
        "    y = x + x  # twice\n    return y\n    # END GRADED" in (scratch / "course/double.py").read_text()
    )
    text = (scratch / "solutions/a01_linear_models/a01_linear_models.py").read_text()
    assert "(edited in JupyterLab)" in text and "x + x" not in text


@pytest.mark.parametrize(
    "cell, message",
    [
        ("    ### BEGIN SOLUTION\n    ### END SOLUTION", "needs the name of its library region"),
        ("    ### BEGIN SOLUTION a01.nothing\n    ### END SOLUTION", "no graded region a01.nothing"),
        ("    ### BEGIN SOLUTION a01.double\n    return 3 * x\n    ### END SOLUTION", "differs"),
        ("    ### BEGIN SOLUTION a01.double\n", "never closed"),
    ],
)
def test_bad_solution_markers_name_the_cell_and_the_problem(scratch, cell, message):
    path = scratch / "solutions/a01_linear_models/a01_linear_models.py"
    path.write_text(SOURCE.replace("    ### BEGIN SOLUTION a01.double\n    ### END SOLUTION\n", cell + "\n"))
    with pytest.raises(source.SourceError, match=message) as err:
        source.build("a01_linear_models", execute=False, **_dirs(scratch))
    assert "cell 1 (double)" in str(err.value)


def test_release_folder_gets_the_notebook_but_never_the_text_source(tmp_path):
    from autograder import pipeline

    paths = pipeline.Paths(work=tmp_path / "work", out=tmp_path / "out", release=tmp_path / "rel")
    release = pipeline.generate_release("a01_linear_models", paths)
    assert release.is_file() and not (release.parent / "a01_linear_models.py").exists()
    shutil.rmtree(tmp_path / "work")
