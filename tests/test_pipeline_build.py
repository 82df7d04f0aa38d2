"""The build side of the course pipeline: nbgrader config, student editions, reference copy, releases.

Each test names what it proves; the slow ones (an nbgrader run or a kernel per assignment) share
module-scoped fixtures so the file stays around a minute.
"""

from __future__ import annotations

import ast
import json
import os
import pickle
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest
from traitlets.config.loader import PyFileConfigLoader

from autograder import editions, pipeline, settings
from course.check import exercise_labels

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
    assert config.OverwriteCells.add_missing_cells is True
    assert "autograder.preprocessors.StripCellTags" in config.Autograde.sanitize_preprocessors
    assert "autograder.preprocessors.HideHiddenTestsAndTracebacks" in config.GenerateFeedback.preprocessors
    assert config.JudgeInSandbox.cell_timeout == settings.CELL_TIMEOUT_S
    assert config.LimitOutput.max_lines == settings.MAX_OUTPUT_LINES


def test_autograding_runs_the_sandboxed_judge_in_place_of_nbgraders_execute():
    # the command line, the pipeline and the formgrader's Autograde button all read this list
    config = PyFileConfigLoader("nbgrader_config.py", path=str(settings.ROOT)).load_config()
    steps = config.Autograde.autograde_preprocessors
    assert steps[0] == "autograder.preprocessors.JudgeInSandbox"
    assert not any("Execute" in step for step in steps)
    assert steps.index("nbgrader.preprocessors.SaveAutoGrades") > 0


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
        '    raise NotImplementedError("g is graded in assignment 02: it is its notebook; write it there '
        '(this library copy is a stub)")\n' in a02
    )
    a01 = editions.stub_text(SAMPLE, 1)
    assert "y = x + 1" not in a01 and "return f(x) * 2" not in a01
    assert "check(x)" in a01 and '"""Doc."""' in a01  # argument checks and docstrings stay
    ast.parse(a01)


def test_stub_messages_name_the_exercise_and_the_notebook_where_it_is_written():
    notes = {"a02.g": editions.Exercise("Exercise 2a", "a02_x.ipynb", "g")}
    current = editions.stub_text(SAMPLE, 2, exercises=notes)
    assert (
        'raise NotImplementedError("g is graded in assignment 02: it is Exercise 2a of a02_x.ipynb, answer '
        'cell g; write it there (this library copy is a stub)")' in current
    )
    later = editions.stub_text(SAMPLE, 1, exercises=notes)
    assert (
        "g is graded in assignment 02 (Exercise 2a of a02_x.ipynb, answer cell g), a later assignment"
        in later
    )
    library = editions.exercises()
    assert library["a02.affine_forward"] == editions.Exercise(
        "Exercise 2a", "a02_backprop_modules.ipynb", "affine_forward"
    )
    assert library["a03.add_forward"].cell == "forward_rules"  # a cell with five answers


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
def test_student_edition_keeps_no_graded_body_and_every_stub_names_its_exercise(edition_root, assignment):
    number = settings.assignment_number(assignment)
    package = edition_root / assignment / "course"
    notes = editions.exercises()
    held = editions.edition_modules(assignment)
    for region in editions.library_regions():
        path = package / Path(region.path).relative_to("course")
        module = region.path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        if module not in held:
            assert not path.exists() and region.assignment > number, f"{path}: {module} should be held"
            continue
        text = path.read_text()
        kept = editions.find_regions(text, str(path))
        assert all(r.assignment < number for r in kept), (
            f"{path}: a region of assignment >= {number} survived"
        )
        if region.assignment < number:
            continue
        exercise = notes.get(f"a{region.assignment:02d}.{region.task}")
        message = editions.stub_message(region, number, exercise)
        if region.assignment == number:
            assert exercise and exercise.label in message and exercise.notebook in message, message
        stubs = [
            node
            for node in _stub_functions(ast.parse(text))
            if any(isinstance(s, ast.Raise) and message in ast.unparse(s) for s in node.body)
        ]
        assert stubs, f"{path}: no function raises NotImplementedError for {region.task}"
        # nothing of the graded body follows the stub: the raise is the function's last statement
        assert all(isinstance(node.body[-1], ast.Raise) for node in stubs), f"{path}: code after the stub"
    assert (package / editions.MARKER_MODULE).is_file()


def test_the_module_map_derives_from_the_graded_regions():
    intro = editions.module_assignments()
    assert intro["course.models.linear"] == 1 and intro["course.layers.affine"] == 2
    assert intro["course.minitf.session"] == 3 and intro["course.layers.lstm"] == 6
    assert intro["course.minitf.draw"] == 3  # no region of its own: it draws a03's graphs
    assert intro["course.core.validation"] is None and intro["course.grading"] is None
    a02 = editions.edition_modules("a02_backprop_modules")
    assert {"course.layers.affine", "course.models.two_layer", "course.core.gradcheck"} <= a02
    assert "course.training.init" in a02  # Linear draws with he_normal: held, stubbed
    assert not {"course.minitf.ops", "course.layers.lstm", "course.kernels.softmax"} & a02
    assert "course.kernels.launch" not in editions.edition_modules("a05_convnets")  # only a09 imports it
    assert "course.kernels.launch" in editions.edition_modules("a09_gpu_kernels")


@pytest.mark.parametrize("assignment", settings.ASSIGNMENTS)
def test_student_edition_imports_whole_and_later_modules_do_not(edition_root, assignment):
    number = settings.assignment_number(assignment)
    held = sorted(editions.edition_modules(assignment))
    absent = sorted(set(editions.library_modules()) - set(held))
    code = textwrap.dedent(
        f"""
        import importlib, course, course.models.linear as L, numpy as np
        assert course.__file__.startswith({str(edition_root / assignment)!r}), course.__file__
        for name in {held!r}:
            importlib.import_module(name)
        for name in {absent!r}:
            try:
                importlib.import_module(name)
            except ModuleNotFoundError:
                continue
            raise AssertionError(name + " imports in the edition")
        try:
            L.squared_loss(np.ones((2, 2)), np.ones(2), np.ones(2))
        except NotImplementedError as e:
            assert {number} == 1 and "squared_loss is graded in assignment 01" in str(e), e
            assert "Exercise 3 of a01_linear_models.ipynb" in str(e), e
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


def _metadata(edition_root: Path, tag: str) -> list[str]:
    wheel = edition_root / "dist" / tag / f"course-0.1.0+{tag}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as zf:
        return zf.read(f"course-0.1.0+{tag}.dist-info/METADATA").decode().splitlines()


def test_wheels_declare_what_a_student_needs_numba_and_a_gpu_extra_for_a09(edition_root):
    a02 = _metadata(edition_root, "a02")
    for requirement in ("numpy>=1.24", "matplotlib>=3.7", *editions.STUDENT_REQUIREMENTS):
        assert f"Requires-Dist: {requirement}" in a02, requirement
    assert not any("numba" in line or "extra ==" in line for line in a02), "a02 needs no numba, no extra"
    a09 = _metadata(edition_root, "a09")
    assert "Requires-Dist: numba>=0.59" in a09 and "Provides-Extra: gpu" in a09
    assert 'Requires-Dist: cupy-cuda12x>=13; extra == "gpu"' in a09


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
    labels = exercise_labels(release)
    for cell in release.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            assert "raise NotImplementedError()" not in cell.source, "an answer stub without its message"
            assert f'raise NotImplementedError("{labels[meta["grade_id"]]} ({meta["grade_id"]}): write' in (
                cell.source
            ), cell.source[-300:]
        assert not cell.get("outputs"), "a release must carry no outputs"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_run_as_is_fails_only_with_not_implemented_error(assignment, tmp_path):
    from nbclient import NotebookClient

    package = editions.build_student_edition(assignment, tmp_path / "edition")
    assert package.is_dir()
    nb = nbformat.read(settings.RELEASE_DIR / assignment / f"{assignment}.ipynb", as_version=4)
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "edition"), "PYTHONSAFEPATH": "1", "MPLBACKEND": "Agg"}
    env["COURSE_CHECKING"] = "1"  # the last cell's check_my_work would run the whole notebook again
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
    unnamed = [e for e in errors if "Exercise" not in e[2] and "is graded in assignment" not in e[2]]
    assert not unnamed, f"a stub's message names no exercise: {unnamed[:3]}"
    graded = [
        c
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade") and "_visible" in c.metadata["nbgrader"]["grade_id"]
    ]
    assert all(any(o.output_type == "error" for o in c.outputs) for c in graded), (
        "a visible test passed on a stub"
    )


def test_release_names_each_stub_in_the_gradebook_too_and_says_when_each_wheel_goes_out(tmp_path):
    from nbgrader.api import Gradebook
    from nbgrader.utils import compute_checksum

    paths = pipeline.Paths(
        work=tmp_path / "work", out=tmp_path / "out", release=tmp_path / "notebooks", dist=tmp_path / "dist"
    )
    made = pipeline.release(paths, ["a01_linear_models", "a02_backprop_modules"])
    assert [r.wheel.name for r in made] == [
        "course-0.1.0+a01-py3-none-any.whl",
        "course-0.1.0+a02-py3-none-any.whl",
    ]
    assert [r.after for r in made] == ["", "a01_linear_models"]
    schedule = pipeline.release_schedule(made)
    assert "a02_backprop_modules" in schedule and "after the deadline of a01_linear_models" in schedule
    nb = nbformat.read(made[1].notebook, as_version=4)
    with Gradebook(f"sqlite:///{paths.db}") as gb:
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("solution"):
                stored = gb.find_source_cell(meta["grade_id"], "a02_backprop_modules", "a02_backprop_modules")
                assert stored.source == cell.source and stored.checksum == compute_checksum(cell)
    assert pipeline.answer_stub_message("Exercise 2a", "affine_forward") == (
        "Exercise 2a (affine_forward): write your code here, in place of this line"
    )


# ---------------------------------------------------------------------------------------------------
# the student's install: one line, in a fresh environment
# ---------------------------------------------------------------------------------------------------


def _install_line(tag: str) -> str:
    """The install command docs/student.md gives for assignment ``tag`` (its folder placeholder kept)."""
    text = (settings.ROOT / "docs" / "student.md").read_text()
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith("pip install")]
    assert lines, "docs/student.md gives no install line"
    return lines[0].replace("+a02", f"+{tag}")


def test_student_docs_never_install_the_full_library():
    text = (settings.ROOT / "docs" / "student.md").read_text()
    for line in text.splitlines():
        if "pip install" in line:
            assert "-e " not in line and "git+" not in line and " . " not in f"{line} ", line
            assert re.search(r"\+a\d\d\b", line), f"an install route that is not an edition's: {line}"


def _overlay_site_packages(dest: Path) -> Path:
    """The packages of this environment, minus the course library: links in one folder."""
    import site

    source = Path(next(p for p in site.getsitepackages() if p.endswith("site-packages")))
    dest.mkdir()
    for entry in source.iterdir():
        if entry.name.startswith(("course", "__editable__", "_distutils_hack", "distutils-precedence")):
            continue
        if entry.suffix == ".pth":
            continue
        (dest / entry.name).symlink_to(entry)
    return dest


@pytest.mark.parametrize("assignment", ["a02_backprop_modules", "a09_gpu_kernels"])
def test_the_install_line_gives_a_fresh_environment_the_edition_and_nothing_more(
    edition_root, assignment, tmp_path
):
    """A new virtual environment that sees this one's packages (numpy, JupyterLab, numba: no download)
    but not its course library; the student's one line installs the wheel from the published folder."""
    tag = assignment.split("_")[0]
    folder = edition_root / "dist" / tag
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    overlay = _overlay_site_packages(tmp_path / "shared")
    Path(purelib, "shared_packages.pth").write_text(f"{overlay}\n")
    line = _install_line(tag).replace("<folder>", str(folder))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONSAFEPATH="1")
    install = subprocess.run(
        f"{venv / 'bin'}/python -m {line}", shell=True, env=env, capture_output=True, text=True, cwd=tmp_path
    )
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-2000:]
    number = settings.assignment_number(assignment)
    regions = editions.library_regions()
    tasks = sorted({r.task for r in regions if r.assignment == number and r.kind == "GRADED"})
    absent = sorted(set(editions.library_modules()) - editions.edition_modules(assignment))
    (tmp_path / "calls.pkl").write_bytes(pickle.dumps(_graded_calls(assignment)))
    code = textwrap.dedent(
        f"""
        import importlib, importlib.metadata, pathlib, pickle, course, course._student_edition
        assert pathlib.Path(course.__file__).is_relative_to({purelib!r}), course.__file__
        assert importlib.metadata.version("course") == "0.1.0+{tag}"
        assert course._student_edition.ASSIGNMENT == "{assignment}"
        text = "\\n".join(p.read_text() for p in pathlib.Path(course.__file__).parent.rglob("*.py"))
        for task in {tasks!r}:
            stub = f'NotImplementedError("{{task}} is graded in assignment {number:02d}: it is Exercise'
            assert stub in text, "no stub naming the exercise of " + task
        for module, name, args, kwargs in pickle.loads(pathlib.Path("calls.pkl").read_bytes()):
            try:
                getattr(importlib.import_module("course." + module), name)(*args, **kwargs)
            except NotImplementedError as err:
                assert "is graded in assignment {number:02d}: it is Exercise" in str(err), err
            else:
                raise AssertionError(module + "." + name + " ran in the student edition")
        for name in {absent!r}:
            try:
                importlib.import_module(name)
            except ModuleNotFoundError:
                continue
            raise AssertionError(name + " imports")
        print(len({tasks!r}))
        """
    )
    result = subprocess.run([python, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout) == len(tasks) > 0


def _graded_calls(assignment: str) -> list[tuple[str, str, tuple, dict]]:
    """(module, function, arguments) of the graded functions of ``assignment`` that take plain inputs."""
    from autograder import checks
    from autograder.checks import core

    calls = []
    for spec in checks.specs(assignment.split("_")[0]).values():
        if spec.inputs is None or spec.options:
            continue
        inputs = dict(spec.inputs(np.random.default_rng(0)))
        module, _, name = spec.reference.rpartition(".")
        if len(spec.takes) == 2 and spec.takes[1].endswith("_backward"):
            out = core.reference(f"{spec.reference}_forward")(**inputs)
            calls.append((module, spec.takes[1], (*[np.ones(np.shape(o)) for o in out[:-1]], out[-1]), {}))
        else:
            calls.append((module, name, (), inputs))
    return calls
