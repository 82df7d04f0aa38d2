"""Student editions of the library and the renamed reference copy used by hidden tests.

- A *student edition* for assignment NN is a copy of ``course/`` in which every region
  ``# BEGIN GRADED aMM.<task>`` ... ``# END GRADED`` with MM >= NN is replaced, at the region's
  indentation, by ``raise NotImplementedError("<task> is graded in assignment MM: implement it in the
  notebook")``. A graded region is the teaching version (the text of the notebook's answer); its ungraded
  fast path, which computes the same quantity another way, sits in ``# BEGIN FAST aMM.<task>`` ...
  ``# END FAST`` and is stubbed the same way, so an edition never hands out an answer through it.
  Earlier assignments' regions stay, so later notebooks can build on them. It carries a
  marker module ``course/_student_edition.py`` and is packed as a wheel
  ``dist/student/aNN/course-<version>+aNN-py3-none-any.whl``.
- The *reference* is the full library renamed to ``course_reference`` (imports rewritten textually:
  ``from course.x import y`` / ``import course.x`` become ``course_reference.x``). It is put on the
  grading kernel's path only; ``autograder.checks.core.reference`` finds it there.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import zipfile
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


def stub_text(text: str, number: int, path: str = "<string>") -> str:
    """``text`` with each graded region of assignment >= ``number`` replaced by a NotImplementedError stub."""
    lines = text.splitlines(keepends=True)
    out, skip_until = [], 0
    regions = {r.first_line: r for r in find_regions(text, path)}
    for lineno, line in enumerate(lines, start=1):
        if lineno <= skip_until:
            continue
        region = regions.get(lineno)
        if region and region.assignment >= number:
            indent = BEGIN.match(line).group("indent")
            what = region.task if region.kind == "GRADED" else f"the fast path of {region.task}"
            out.append(
                f'{indent}raise NotImplementedError("{what} is graded in assignment '
                f'{region.assignment:02d}: implement it in the notebook")\n'
            )
            skip_until = region.last_line
        else:
            out.append(line)
    return "".join(out)


def library_regions(library: Path = settings.LIBRARY_DIR) -> list[Region]:
    regions = []
    for path in sorted(library.rglob("*.py")):
        regions += find_regions(path.read_text(), str(path.relative_to(library.parent)))
    return regions


def build_student_edition(assignment: str, dest: Path, library: Path = settings.LIBRARY_DIR) -> Path:
    """Write the student edition of ``assignment`` to ``dest/course``; return that package directory."""
    number = settings.assignment_number(assignment)
    package = dest / "course"
    if package.exists():
        shutil.rmtree(package)
    shutil.copytree(library, package, ignore=IGNORE)
    for path in sorted(package.rglob("*.py")):
        text = path.read_text()
        stubbed = stub_text(text, number, str(path.relative_to(dest)))
        if stubbed != text:
            path.write_text(stubbed)
    (package / MARKER_MODULE).write_text(
        f'"""Marks this copy of the library as the student edition of {assignment}: graded functions of '
        f'assignment {number:02d} and later raise NotImplementedError."""\n\nASSIGNMENT = "{assignment}"\n'
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
    metadata = (
        "\n".join(
            [
                "Metadata-Version: 2.1",
                "Name: course",
                f"Version: {full_version}",
                f"Summary: Student edition of the course library for {assignment}",
                f"Requires-Python: {requires_python}",
            ]
            + [f"Requires-Dist: {d}" for d in deps]
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
