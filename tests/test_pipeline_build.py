"""The build side of the course pipeline: nbgrader config, student editions, reference copy, releases.

Each test names what it proves; the slow ones (an nbgrader run or a kernel per assignment) share
module-scoped fixtures so the file stays around a minute.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import nbformat
import pytest
from traitlets.config.loader import PyFileConfigLoader

from autograder import editions, pipeline, settings

ASSIGNMENTS = settings.available_assignments()


# ---------------------------------------------------------------------------------------------------
# nbgrader configuration
# ---------------------------------------------------------------------------------------------------


def test_root_nbgrader_config_really_loads_the_autograder_config():
    # traitlets' load_subconfig silently ignores a missing file: check values only autograder/ sets.
    config = PyFileConfigLoader("nbgrader_config.py", path=str(settings.ROOT)).load_config()
    assert config.CourseDirectory.course_id == settings.COURSE_ID
    assert config.CourseDirectory.source_directory == "solutions"
    assert config.CourseDirectory.release_directory == "notebooks"
    assert config.IgnorePattern.enabled is True
    assert config.Execute.skip_cells_with_tag.startswith("never-skip-")
    assert "--InteractiveShellApp.ignore_cwd=True" in config.Execute.extra_arguments
    assert config.OverwriteCells.add_missing_cells is True
    assert "autograder.preprocessors.StripCellTags" in config.Autograde.sanitize_preprocessors
    assert "autograder.preprocessors.HideHiddenTestsAndTracebacks" in config.GenerateFeedback.preprocessors
    assert config.Execute.timeout == settings.CELL_TIMEOUT_S
    assert config.LimitOutput.max_lines == settings.MAX_OUTPUT_LINES


def test_skip_tag_differs_on_every_load():
    load = lambda: PyFileConfigLoader("nbgrader_config.py", path=str(settings.ROOT)).load_config()
    assert load().Execute.skip_cells_with_tag != load().Execute.skip_cells_with_tag


# ---------------------------------------------------------------------------------------------------
# graded-region markers
# ---------------------------------------------------------------------------------------------------

SAMPLE = """def f(x):
    \"\"\"Doc.\"\"\"
    check(x)
    # BEGIN GRADED a01.f
    y = x + 1
    return y
    # END GRADED


def g(x):
    # BEGIN GRADED a02.g
    return f(x) * 2
    # END GRADED
"""


def test_stub_replaces_regions_of_this_and_later_assignments_and_keeps_earlier_ones():
    a02 = editions.stub_text(SAMPLE, 2)
    assert "y = x + 1" in a02 and "return f(x) * 2" not in a02
    assert (
        '    raise NotImplementedError("g is graded in assignment 02: implement it in the notebook")\n' in a02
    )
    a01 = editions.stub_text(SAMPLE, 1)
    assert "y = x + 1" not in a01 and "return f(x) * 2" not in a01
    assert "check(x)" in a01 and '"""Doc."""' in a01  # argument checks and docstrings stay
    ast.parse(a01)


@pytest.mark.parametrize(
    "text, message",
    [
        ("    # BEGIN GRADED a01.f\n    # BEGIN GRADED a01.g\n    # END GRADED\n", "must not nest"),
        ("    # BEGIN GRADED a01.f\n    return 1\n", "never closed"),
        ("    # BEGIN GRADED a01.f\n  # END GRADED\n", "indentation"),
        ("    # END GRADED\n", "without a BEGIN"),
        ("    # BEGIN GRADED 01.f\n    # END GRADED\n", "malformed"),
    ],
)
def test_malformed_markers_are_rejected_with_the_line(text, message):
    with pytest.raises(editions.MarkerError, match=message):
        editions.find_regions(text, "x.py")


def test_every_library_region_is_well_formed():
    regions = editions.library_regions()
    assert regions, "the library has no graded regions"
    assert all(1 <= r.assignment <= 10 for r in regions)


# ---------------------------------------------------------------------------------------------------
# student editions and the reference
# ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def edition_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("editions")
    for assignment in settings.ASSIGNMENTS:
        package = editions.build_student_edition(assignment, root / assignment)
        editions.build_wheel(package, assignment, root / "dist")
    return root


def _stub_functions(tree: ast.AST) -> list[ast.FunctionDef]:
    """Every function (or method) whose body holds a raise NotImplementedError(...)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for stmt in node.body:
                if (
                    isinstance(stmt, ast.Raise)
                    and isinstance(stmt.exc, ast.Call)
                    and getattr(stmt.exc.func, "id", "") == "NotImplementedError"
                ):
                    found.append(node)
    return found


@pytest.mark.parametrize("assignment", settings.ASSIGNMENTS)
def test_student_edition_keeps_no_graded_body_and_every_stub_names_its_task(edition_root, assignment):
    number = settings.assignment_number(assignment)
    package = edition_root / assignment / "course"
    for region in editions.library_regions():
        path = package / Path(region.path).relative_to("course")
        text = path.read_text()
        kept = editions.find_regions(text, str(path))
        assert all(r.assignment < number for r in kept), (
            f"{path}: a region of assignment >= {number} survived"
        )
        if region.assignment < number:
            continue
        message = (
            f"{region.task} is graded in assignment {region.assignment:02d}: implement it in the notebook"
        )
        stubs = [
            node
            for node in _stub_functions(ast.parse(text))
            if any(isinstance(s, ast.Raise) and message in ast.unparse(s) for s in node.body)
        ]
        assert stubs, f"{path}: no function raises NotImplementedError for {region.task}"
        # nothing of the graded body follows the stub: the raise is the function's last statement
        assert all(isinstance(node.body[-1], ast.Raise) for node in stubs), f"{path}: code after the stub"
    assert (package / editions.MARKER_MODULE).is_file()


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_student_edition_imports_and_earlier_assignments_stay_working(edition_root, assignment):
    number = settings.assignment_number(assignment)
    code = textwrap.dedent(
        f"""
        import importlib, pkgutil, course, course.models.linear as L, numpy as np
        for m in pkgutil.walk_packages(course.__path__, "course."):
            importlib.import_module(m.name)
        assert course.__file__.startswith({str(edition_root / assignment)!r}), course.__file__
        try:
            L.squared_loss(np.ones((2, 2)), np.ones(2), np.ones(2))
        except NotImplementedError as e:
            assert {number} == 1 and "squared_loss is graded in assignment 01" in str(e), e
        else:
            assert {number} > 1, "squared_loss ran in the a01 student edition"
        """
    )
    env = {**os.environ, "PYTHONPATH": str(edition_root / assignment), "PYTHONSAFEPATH": "1"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd="/")
    assert result.returncode == 0, result.stderr[-2000:]


def test_wheels_hold_the_edition_verbatim_with_a_valid_record(edition_root):
    import base64
    import hashlib

    wheel = edition_root / "dist" / "a01" / "course-0.1.0+a01-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        record = zf.read("course-0.1.0+a01.dist-info/RECORD").decode().splitlines()
        for line in record:
            name, digest, size = line.rsplit(",", 2)
            if digest:
                data = zf.read(name)
                expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                assert digest == f"sha256={expected}" and int(size) == len(data), name
        assert (
            zf.read("course/models/linear.py")
            == (edition_root / "a01_linear_models/course/models/linear.py").read_bytes()
        )
    assert "course/_student_edition.py" in names and "course/data/digits.npz" in names
    again = editions.build_wheel(
        edition_root / "a01_linear_models" / "course", "a01_linear_models", edition_root / "dist2"
    )
    assert again.read_bytes() == wheel.read_bytes(), "wheel build is not reproducible"


def test_reference_is_the_full_library_renamed_and_never_imports_course(tmp_path):
    package = editions.build_reference(tmp_path)
    for path in package.rglob("*.py"):
        for line in path.read_text().splitlines():
            stripped = line.strip()
            assert not stripped.startswith(("from course.", "import course.", "from course import")), (
                path,
                line,
            )
    code = textwrap.dedent(
        """
        import importlib, pkgutil, sys, course_reference
        for m in pkgutil.walk_packages(course_reference.__path__, "course_reference."):
            importlib.import_module(m.name)
        assert not any(k == "course" or k.startswith("course.") for k in sys.modules), "course was imported"
        from course_reference.models.linear import squared_loss
        import numpy as np
        print(squared_loss(np.eye(2), np.ones(2), np.zeros(2))[0])
        """
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "PYTHONSAFEPATH": "1"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd="/")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "1.0"


# ---------------------------------------------------------------------------------------------------
# releases
# ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory) -> pipeline.Paths:
    base = tmp_path_factory.mktemp("release")
    paths = pipeline.Paths(
        work=base / "work", out=base / "out", release=base / "notebooks", dist=base / "dist"
    )
    for assignment in ASSIGNMENTS:
        pipeline.generate_release(assignment, paths)
    return paths


def _comparable(path: Path) -> dict:
    return json.loads(path.read_text())


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_committed_release_equals_a_fresh_build(rebuilt, assignment):
    fresh = rebuilt.release / assignment / f"{assignment}.ipynb"
    committed = settings.RELEASE_DIR / assignment / f"{assignment}.ipynb"
    assert committed.is_file(), f"{committed} missing: run python -m autograder release"
    assert _comparable(committed) == _comparable(fresh), (
        f"{committed} is out of date with solutions/: run python -m autograder release and commit it"
    )


def _source_regions(source_nb, begin: str, end: str) -> tuple[list[str], set[str]]:
    """(distinctive lines inside begin/end regions, every stripped line outside them) of a notebook."""
    inside_lines, outside = [], set()
    for cell in source_nb.cells:
        inside = False
        for line in cell.source.splitlines():
            if begin in line:
                inside = True
            elif end in line:
                inside = False
            elif inside and len(line.strip()) > 12:  # long enough to be distinctive
                inside_lines.append(line.strip())
            elif not inside:
                outside.add(line.strip())
    # a line that also appears outside the regions (shared helper code) is not a secret
    return [line for line in inside_lines if line not in outside], outside


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_keeps_no_solution_hidden_test_or_reference_answer(assignment):
    release = nbformat.read(settings.RELEASE_DIR / assignment / f"{assignment}.ipynb", as_version=4)
    source = nbformat.read(settings.SOURCE_DIR / assignment / f"{assignment}.ipynb", as_version=4)
    text = "\n".join(cell.source for cell in release.cells)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text, f"{marker} survived in the release"
    release_lines = {line.strip() for line in text.splitlines()}
    hidden, _ = _source_regions(source, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
    leaked = [line for line in hidden if line in release_lines]
    assert not leaked, f"hidden test lines in the release: {leaked[:3]}"
    answers, _ = _source_regions(source, "### BEGIN SOLUTION", "### END SOLUTION")
    answer_text = "\n".join(c.source for c in release.cells if c.metadata.get("nbgrader", {}).get("solution"))
    leaked = [line for line in answers if line in answer_text]
    assert not leaked, f"solution lines in the release's answer cells: {leaked[:3]}"
    for cell in release.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            assert "raise NotImplementedError()" in cell.source
        assert not cell.get("outputs"), "a release must carry no outputs"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_run_as_is_fails_only_with_not_implemented_error(assignment, tmp_path):
    from nbclient import NotebookClient

    package = editions.build_student_edition(assignment, tmp_path / "edition")
    assert package.is_dir()
    nb = nbformat.read(settings.RELEASE_DIR / assignment / f"{assignment}.ipynb", as_version=4)
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "edition"), "PYTHONSAFEPATH": "1", "MPLBACKEND": "Agg"}
    client = NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute(env=env)
    errors = [
        (i, o.ename, o.evalue)
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]
    assert errors, "the release ran without any error: are the exercises stubbed?"
    others = [e for e in errors if e[1] != "NotImplementedError"]
    assert not others, f"errors other than NotImplementedError: {others[:3]}"
    graded = [
        c
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade") and "_visible" in c.metadata["nbgrader"]["grade_id"]
    ]
    assert all(any(o.output_type == "error" for o in c.outputs) for c in graded), (
        "a visible test passed on a stub"
    )
