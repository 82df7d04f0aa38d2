"""Student editions of the library and the renamed reference copy used by hidden tests.

A *student edition* for assignment NN is what a student of NN needs of ``course/``: the library of the
assignments up to NN, with NN's graded tasks stubbed and the earlier ones working, and nothing of the
later assignments. It is packed as a wheel ``dist/student/aNN/course-<version>+aNN-py3-none-any.whl``,
which declares what a student needs besides (JupyterLab, ipykernel, nbclient; numba for a09) and carries
a marker module ``course/_student_edition.py``.

Which modules an edition holds (``edition_modules``). A module is *introduced* by the first assignment
with a graded region in it (``module_assignments``); a module without regions is introduced by none.
The edition of NN holds, with every package above them:

1. every module introduced by an assignment <= NN;
2. every module without graded regions, unless the only modules that import it are left out of the
   edition (``course.kernels.launch``, which only the a09 kernels import); a package ``__init__`` that
   re-exports it counts as a use, so the data sets and plots are in every edition;
3. every module that a notebook of an assignment <= NN imports, and every module that a module of the
   edition imports (anywhere in the file, through a package's re-exports too), at any depth. Such a module
   of a later assignment stays, its regions stubbed: ``course.training.init`` (a04) is in a02's edition
   because ``Linear`` draws its weights with ``he_normal``, and calling it raises.

Every other module is absent (an import of it fails): a module whose graded regions all belong to later
assignments and that nothing above pulls in; an absent package keeps only an ``__init__.py`` that raises
ModuleNotFoundError (``absent_package_text``). A package ``__init__`` only re-exports: it pulls nothing in,
and in the edition it loses the imports (and ``__all__`` names) of the modules left out, so ``import
course`` and every module of the edition import. The answers of a06-a08 are earlier assignments for a09:
its edition holds them working, like every earlier answer (a09 is released after a08's deadline).

Stubs: every region ``# BEGIN GRADED aMM.<task>`` ... ``# END GRADED`` with MM >= NN is replaced, at the
region's indentation, by ``raise NotImplementedError("<task> is graded in assignment MM: ...")``, whose
message names the exercise and the notebook where it is written (``exercises``). A region's ungraded fast
path, ``# BEGIN FAST aMM.<task>`` ... ``# END FAST``, is stubbed the same way, so an edition never hands out
an answer through it.

The *reference* is the full library renamed to ``course_reference`` (imports rewritten textually:
``from course.x import y`` / ``import course.x`` become ``course_reference.x``). It is put on the
grading kernel's path only; ``autograder.checks.core.reference`` finds it there.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import re
import shutil
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from autograder import settings

BEGIN = re.compile(
    r"^(?P<indent>[ \t]*)# BEGIN (?P<kind>GRADED|FAST) a(?P<num>\d\d)\.(?P<task>[A-Za-z_][A-Za-z0-9_]*)\s*$"
)
END = re.compile(r"^(?P<indent>[ \t]*)# END (?P<kind>GRADED|FAST)\s*$")
IMPORT = re.compile(r"^(?P<lead>[ \t]*(?:from|import)[ \t]+)course(?=[.\s]|$)", re.MULTILINE)
MARKER_MODULE = "_student_edition.py"
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")


SOLUTION_MARKER = re.compile(
    r"^[ \t]*### BEGIN SOLUTION[ \t]+(?P<region>a\d\d\.[A-Za-z_]\w*)[ \t]*$", re.MULTILINE
)

# What a student installs besides the library's own dependencies: the notebook server and kernel, and what
# course.check drives them with. A module that needs more says so here (numba, imported by the kernels).
STUDENT_REQUIREMENTS = ("jupyterlab>=4.0", "ipykernel>=6.25", "nbclient>=0.7", "nbformat>=5.7")
MODULE_REQUIREMENTS = {"course.kernels.launch": ("numba>=0.59",)}
MODULE_EXTRAS = {"course.kernels.launch": {"gpu": ("cupy-cuda12x>=13", "numba-cuda[cu12]>=0.4")}}


class MarkerError(ValueError):
    """Graded-region markers that cannot be processed (unclosed, nested, mismatched indentation)."""


@dataclass(frozen=True)
class Region:
    path: str
    assignment: int
    task: str
    first_line: int  # 1-based, the BEGIN line
    last_line: int  # the END line
    kind: str = "GRADED"  # or "FAST": an ungraded fast path of the graded task, stubbed alike


def find_regions(text: str, path: str = "<string>") -> list[Region]:
    """All graded regions of one file, validated: closed, not nested, END at the BEGIN's indentation."""
    regions, open_region = [], None
    for lineno, line in enumerate(text.splitlines(), start=1):
        begin, end = BEGIN.match(line), END.match(line)
        if ("BEGIN GRADED" in line or "BEGIN FAST" in line) and not begin:
            raise MarkerError(f"{path}:{lineno}: malformed marker, expected '# BEGIN GRADED aNN.<task>'")
        if begin:
            if open_region:
                raise MarkerError(
                    f"{path}:{lineno}: graded regions must not nest (open since line {open_region[0]})"
                )
            open_region = (lineno, begin)
        elif end:
            if not open_region:
                raise MarkerError(f"{path}:{lineno}: '# END GRADED' without a BEGIN")
            start, match = open_region
            if end.group("indent") != match.group("indent"):
                raise MarkerError(
                    f"{path}:{lineno}: END GRADED is not at the indentation of its BEGIN (line {start})"
                )
            if end.group("kind") != match.group("kind"):
                raise MarkerError(
                    f"{path}:{lineno}: '# END {end.group('kind')}' closes a {match.group('kind')} region"
                )
            kind = match.group("kind")
            regions.append(Region(path, int(match.group("num")), match.group("task"), start, lineno, kind))
            open_region = None
    if open_region:
        raise MarkerError(f"{path}:{open_region[0]}: graded region is never closed")
    return regions


@dataclass(frozen=True)
class Exercise:
    """Where a graded task is written: the notebook's exercise and answer cell."""

    label: str  # 'Exercise 2a' ('' when the notebook names none)
    notebook: str  # 'a02_backprop_modules.ipynb'
    cell: str  # the answer cell's grade id, 'affine_forward'

    def where(self) -> str:
        """'Exercise 2a of a02_backprop_modules.ipynb, answer cell affine_forward'."""
        label = f"{self.label} of " if self.label else ""
        return f"{label}{self.notebook}, answer cell {self.cell}"


def exercises(source_dir: Path = settings.SOURCE_DIR) -> dict[str, Exercise]:
    """'a02.affine_forward' -> its Exercise, for every region named by an answer cell of a solution notebook
    (the build of the text source, which nbgrader releases)."""
    import nbformat

    from course.check import exercise_labels

    found = {}
    for assignment in settings.available_assignments(source_dir):
        path = source_dir / assignment / f"{assignment}.ipynb"
        if not path.is_file():
            continue
        nb = nbformat.read(str(path), as_version=4)
        labels = exercise_labels(nb)
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("solution"):
                for match in SOLUTION_MARKER.finditer(cell.source):
                    found[match.group("region")] = Exercise(
                        labels.get(meta["grade_id"], ""), f"{assignment}.ipynb", meta["grade_id"]
                    )
    return found


def stub_message(region: Region, number: int, exercise: Exercise | None = None) -> str:
    """The NotImplementedError message of ``region``'s stub in the edition of assignment ``number``."""
    what = region.task if region.kind == "GRADED" else f"the fast path of {region.task}"
    graded = f"{what} is graded in assignment {region.assignment:02d}"
    if region.assignment == number:
        where = exercise.where() if exercise else "its notebook"
        return f"{graded}: it is {where}; write it there (this library copy is a stub)"
    where = f" ({exercise.where()})" if exercise else ""
    return f"{graded}{where}, a later assignment: this edition of the library does not implement it yet"


def stub_text(
    text: str, number: int, path: str = "<string>", exercises: Mapping[str, Exercise] | None = None
) -> str:
    """``text`` with each graded region of assignment >= ``number`` replaced by a NotImplementedError stub.

    ``exercises`` ('a02.affine_forward' -> Exercise) lets each stub's message name the exercise.
    """
    lines = text.splitlines(keepends=True)
    out, skip_until = [], 0
    regions = {r.first_line: r for r in find_regions(text, path)}
    for lineno, line in enumerate(lines, start=1):
        if lineno <= skip_until:
            continue
        region = regions.get(lineno)
        if region and region.assignment >= number:
            indent = BEGIN.match(line).group("indent")
            exercise = (exercises or {}).get(f"a{region.assignment:02d}.{region.task}")
            message = stub_message(region, number, exercise).replace("\\", "\\\\").replace('"', '\\"')
            out.append(f'{indent}raise NotImplementedError("{message}")\n')
            skip_until = region.last_line
        else:
            out.append(line)
    return "".join(out)


def library_regions(library: Path = settings.LIBRARY_DIR) -> list[Region]:
    regions = []
    for path in sorted(library.rglob("*.py")):
        regions += find_regions(path.read_text(), str(path.relative_to(library.parent)))
    return regions


# ---- which modules an edition holds -------------------------------------------------------------------


@dataclass(frozen=True)
class LibraryModule:
    name: str  # 'course.layers.affine'
    path: str  # 'course/layers/affine.py'
    assignments: frozenset[int]  # of its graded and fast regions
    imports: frozenset[str]  # the library modules it imports, anywhere in the file
    package: bool  # an __init__.py
    exports: Mapping[str, str]  # for a package: re-exported name -> the module it comes from

    @property
    def introduced(self) -> int | None:
        """The assignment that introduces the module: its first graded region's, None without regions."""
        return min(self.assignments) if self.assignments else None


def _module_name(path: Path, library: Path) -> str:
    parts = path.relative_to(library.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_of(name: str, package: bool) -> str:
    return name if package else name.rpartition(".")[0]


def _resolve(node: ast.AST, here: str, package: bool, names: set[str], exports: Mapping) -> set[str]:
    """The library modules an import statement in module ``here`` loads (through re-exports too)."""
    found = set()
    if isinstance(node, ast.Import):
        for alias in node.names:
            parts = alias.name.split(".")
            prefixes = [".".join(parts[:k]) for k in range(len(parts), 0, -1)]
            found |= {next((p for p in prefixes if p in names), "")} - {""}
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            anchor = _package_of(here, package).split(".")
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, *([base] if base else [])])
        if base not in names:
            return set()
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            found.add(sub if sub in names else exports.get(base, {}).get(alias.name, base))
    return found


def library_modules(library: Path = settings.LIBRARY_DIR) -> dict[str, LibraryModule]:
    """Every module of the library by dotted name, with its regions' assignments and its imports."""
    paths = {_module_name(p, library): p for p in sorted(library.rglob("*.py"))}
    names = set(paths)
    trees = {name: ast.parse(path.read_text(), str(path)) for name, path in paths.items()}
    exports: dict[str, dict[str, str]] = {}
    for name, tree in trees.items():
        if paths[name].name == "__init__.py":
            table = exports.setdefault(name, {})
            for node in tree.body:
                if isinstance(node, ast.ImportFrom) and not node.level and node.module in names:
                    for alias in node.names:
                        table[alias.asname or alias.name] = node.module
    modules = {}
    for name, tree in trees.items():
        package = paths[name].name == "__init__.py"
        imports = set()
        for node in ast.walk(tree):
            imports |= _resolve(node, name, package, names, exports)
        path = paths[name]
        modules[name] = LibraryModule(
            name,
            str(path.relative_to(library.parent).as_posix()),
            frozenset(r.assignment for r in find_regions(path.read_text(), str(path))),
            frozenset(imports - {name}),
            package,
            exports.get(name, {}),
        )
    return modules


def introductions(modules: Mapping[str, LibraryModule]) -> dict[str, int | None]:
    """Module -> the assignment that introduces it.

    A module with graded regions: its first region's assignment. A module without: the latest assignment
    among the modules it imports, directly or not (it is of no use before), None when it imports none of
    them. A package ``__init__``: None (it only re-exports).
    """
    intro = {name: m.introduced for name, m in modules.items()}
    changed = True
    while changed:  # each pass can only raise a value, so this ends
        changed = False
        for name, m in modules.items():
            if m.assignments or m.package:
                continue
            deps = [intro[d] for d in m.imports if intro[d] is not None and not modules[d].package]
            value = max(deps, default=None)
            if value is not None and (intro[name] is None or value > intro[name]):
                intro[name], changed = value, True
    return intro


def module_assignments(library: Path = settings.LIBRARY_DIR) -> dict[str, int | None]:
    """Library module -> the assignment that introduces it (``introductions``)."""
    return introductions(library_modules(library))


def notebook_imports(
    assignment: str, modules: Mapping[str, LibraryModule], source_dir: Path = settings.SOURCE_DIR
) -> set[str]:
    """The library modules that the text source of ``assignment`` imports (through re-exports too).

    A text source is a Python file (jupytext's percent format: prose in comments), so it parses as one.
    """
    path = source_dir / assignment / f"{assignment}.py"
    if not path.is_file():
        return set()
    names = set(modules)
    exports = {n: m.exports for n, m in modules.items() if m.package}
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        found |= _resolve(node, "notebook", False, names, exports)
    return found


def edition_modules(
    assignment: str,
    library: Path = settings.LIBRARY_DIR,
    source_dir: Path = settings.SOURCE_DIR,
    modules: Mapping[str, LibraryModule] | None = None,
) -> set[str]:
    """The library modules that the student edition of ``assignment`` holds (the rule: module docstring).

    ``modules`` is ``library_modules(library)``, when the caller has it already.
    """
    number = settings.assignment_number(assignment)
    modules = library_modules(library) if modules is None else modules
    intro = introductions(modules)
    used, exported = set(), set()
    for module in modules.values():
        (exported if module.package else used).update(module.imports)
    wanted = {n for n, m in modules.items() if m.assignments and intro[n] <= number}  # rule 1
    wanted |= {  # rule 2: what nothing imports, or a package re-exports, and that brings nothing later in
        n
        for n, m in modules.items()
        if not m.assignments
        and not m.package
        and (intro[n] is None or intro[n] <= number)
        and (n not in used or n in exported)
    }
    for earlier in settings.ASSIGNMENTS:  # rule 3, the notebooks
        if settings.assignment_number(earlier) <= number:
            wanted |= notebook_imports(earlier, modules, source_dir)
    held: set[str] = set()
    todo = sorted(wanted)
    while todo:  # rule 3, the closure (a package's own imports are re-exports: they pull nothing in)
        name = todo.pop()
        if name in held:
            continue
        held.add(name)
        parts = name.split(".")
        todo += [".".join(parts[:k]) for k in range(1, len(parts)) if ".".join(parts[:k]) not in held]
        if not modules[name].package:
            todo += sorted(modules[name].imports - held)
    return held


def _filter_package(text: str, held: set[str], module: LibraryModule) -> str:
    """A package ``__init__`` without the imports (and ``__all__`` names) of the modules left out."""
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    drop, dropped_names = set(), set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and not node.level and node.module in module.exports.values():
            if node.module not in held:
                drop |= set(range(node.lineno, node.end_lineno + 1))
                dropped_names |= {alias.asname or alias.name for alias in node.names}
    if not drop:
        return text
    for node in tree.body:
        targets = [getattr(t, "id", "") for t in getattr(node, "targets", [])]
        if "__all__" in targets and isinstance(node.value, (ast.List, ast.Tuple)):
            kept = [e.value for e in node.value.elts if e.value not in dropped_names]
            body = "".join(f'    "{name}",\n' for name in kept)
            lines[node.lineno - 1] = f"__all__ = [\n{body}]\n"
            drop |= set(range(node.lineno + 1, node.end_lineno + 1))
    return "".join(line for i, line in enumerate(lines, start=1) if i not in drop)


def absent_package_text(name: str, assignment: str) -> str:
    """The ``__init__.py`` left for a package the edition leaves out: its import fails, saying why.

    A file, not nothing, so that no other copy of ``course`` on the path (an instructor's editable install,
    whose finder serves the children of ``course`` it cannot find) fills the gap.
    """
    message = f"{name} is not part of the student edition of {assignment}: it comes with a later assignment"
    return (
        f'"""Left out of the student edition of {assignment} (later assignments\' code)."""\n\n'
        f'raise ModuleNotFoundError("{message}", name="{name}")\n'
    )


def build_student_edition(
    assignment: str,
    dest: Path,
    library: Path = settings.LIBRARY_DIR,
    source_dir: Path = settings.SOURCE_DIR,
) -> Path:
    """Write the student edition of ``assignment`` to ``dest/course``; return that package directory."""
    number = settings.assignment_number(assignment)
    modules = library_modules(library)
    held = edition_modules(assignment, library, source_dir, modules)
    notes = exercises(source_dir)
    package = dest / "course"
    if package.exists():
        shutil.rmtree(package)
    shutil.copytree(library, package, ignore=IGNORE)
    for name, module in modules.items():
        path = dest / module.path
        if name not in held:
            path.unlink()
            continue
        text = path.read_text()
        new = stub_text(text, number, module.path, notes)
        if module.package:
            new = _filter_package(new, held, module)
        if new != text:
            path.write_text(new)
    for folder in sorted(package.rglob("*"), reverse=True):  # packages left with data files only stay
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    for name, module in modules.items():
        if module.package and name not in held and name.rpartition(".")[0] in held:
            (dest / module.path).parent.mkdir(parents=True, exist_ok=True)
            (dest / module.path).write_text(absent_package_text(name, assignment))
    version = f"{_project_metadata()[0]}+{assignment.split('_')[0]}"
    (package / MARKER_MODULE).write_text(
        f'"""Marks this copy of the library as the student edition of {assignment}: graded functions of '
        f'assignment {number:02d} raise NotImplementedError, later assignments\' modules are absent."""\n\n'
        f'ASSIGNMENT = "{assignment}"\nVERSION = "{version}"\n'
    )
    return package


def rewrite_imports(text: str) -> str:
    """``from course.x import y`` / ``import course.x`` -> ``course_reference.x`` (start of a line only)."""
    return IMPORT.sub(lambda m: m.group("lead") + "course_reference", text)


def build_reference(dest: Path, library: Path = settings.LIBRARY_DIR) -> Path:
    """Write the full library renamed to ``dest/course_reference``; return that package directory."""
    package = dest / "course_reference"
    if package.exists():
        shutil.rmtree(package)
    shutil.copytree(library, package, ignore=IGNORE)
    for path in sorted(package.rglob("*.py")):
        path.write_text(rewrite_imports(path.read_text()))
    return package


def _project_metadata() -> tuple[str, list[str], str]:
    """(version, runtime dependencies, requires-python) of the installed ``course`` distribution."""
    from importlib import metadata

    try:
        meta = metadata.metadata("course")
    except metadata.PackageNotFoundError:  # not installed: the version from the package itself
        import course

        return course.__version__, [], ">=3.10"
    deps = [d for d in (meta.get_all("Requires-Dist") or []) if "extra ==" not in d]
    return meta["Version"].split("+")[0], deps, meta.get("Requires-Python") or ">=3.10"


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def student_requirements(package: Path, deps: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """(what installing the edition in ``package`` installs, its extras): the library's dependencies, the
    notebook tools, and what the modules it holds need (numba for a09's kernels; CuPy as extra ``gpu``)."""
    requires = [*deps, *STUDENT_REQUIREMENTS]
    extras: dict[str, list[str]] = {}
    for module, needs in sorted(MODULE_REQUIREMENTS.items()):
        if (package.parent / (module.replace(".", "/") + ".py")).is_file():
            requires += [n for n in needs if n not in requires]
    for module, table in sorted(MODULE_EXTRAS.items()):
        if (package.parent / (module.replace(".", "/") + ".py")).is_file():
            for extra, needs in table.items():
                extras.setdefault(extra, []).extend(n for n in needs if n not in extras.get(extra, []))
    return requires, extras


def build_wheel(package: Path, assignment: str, dist: Path) -> Path:
    """Pack a student edition (the ``course`` directory) as a pure-Python wheel, byte-for-byte reproducible.

    The version carries the assignment as a local label (0.1.0+a02), so ``pip install`` of a later edition
    replaces an earlier one.
    """
    version, deps, requires_python = _project_metadata()
    tag = assignment.split("_")[0]
    full_version = f"{version}+{tag}"
    dist_info = f"course-{full_version}.dist-info"
    files: list[tuple[str, bytes]] = []
    for path in sorted(p for p in package.rglob("*") if p.is_file()):
        files.append((f"course/{path.relative_to(package).as_posix()}", path.read_bytes()))
    requires, extras = student_requirements(package, deps)
    metadata = (
        "\n".join(
            [
                "Metadata-Version: 2.1",
                "Name: course",
                f"Version: {full_version}",
                f"Summary: Student edition of the course library for {assignment}",
                f"Requires-Python: {requires_python}",
            ]
            + [f"Requires-Dist: {d}" for d in requires]
            + [f"Provides-Extra: {extra}" for extra in extras]
            + [f'Requires-Dist: {d}; extra == "{extra}"' for extra, ds in extras.items() for d in ds]
        )
        + "\n"
    )
    wheel = "Wheel-Version: 1.0\nGenerator: autograder.editions\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files += [(f"{dist_info}/METADATA", metadata.encode()), (f"{dist_info}/WHEEL", wheel.encode())]
    record = "".join(f"{name},{_record_hash(data)},{len(data)}\n" for name, data in files)
    record += f"{dist_info}/RECORD,,\n"
    files.append((f"{dist_info}/RECORD", record.encode()))

    out_dir = dist / tag
    out_dir.mkdir(parents=True, exist_ok=True)
    wheel_path = out_dir / f"course-{full_version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel_path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return wheel_path
