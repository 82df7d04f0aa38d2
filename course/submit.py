"""Hand in a notebook as one zip file, for courses that collect files outside nbgrader.

    python -m course.submit a02_backprop_modules.ipynb

writes ``a02_backprop_modules_submission.zip`` beside the notebook. It holds the notebook as saved on
disk and ``manifest.json``: the notebook's file name, its SHA-256 (so the instructor can tell that the
file graded is the file handed in), its size, the course library's version (the student edition,
``0.1.0+a02``) and when the zip was made. Save the notebook first: the zip takes the file on disk.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"


def edition() -> tuple[str, str]:
    """(the imported course library's version, its assignment): ('0.1.0+a02', 'a02_backprop_modules') for
    the student edition of a02; the full library has no assignment ('')."""
    try:
        from course import _student_edition  # type: ignore[attr-defined]
    except ImportError:
        import course

        return course.__version__, ""
    return _student_edition.VERSION, _student_edition.ASSIGNMENT


def manifest(name: str, data: bytes) -> dict[str, Any]:
    """What the zip says about the notebook ``name`` whose bytes are ``data``."""
    version, assignment = edition()
    return {
        "notebook": name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "course_version": version,
        "edition": assignment,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def submit(notebook: Path | str) -> Path:
    """Write ``<name>_submission.zip`` beside ``notebook``; return its path.

    Raises ValueError when the file is not a readable notebook (a zip of it could not be graded).
    """
    import nbformat

    path = Path(notebook)
    if path.suffix != ".ipynb" or not path.is_file():
        raise ValueError(f"{path}: not a notebook file (give the .ipynb you worked in)")
    data = path.read_bytes()  # read once: the zip and its manifest describe the same bytes
    try:
        nbformat.validate(nbformat.reads(data.decode("utf-8"), as_version=4))
    except Exception as err:  # noqa: BLE001 (any parse failure means the same thing: ungradable)
        raise ValueError(
            f"{path.name} is not a readable notebook ({type(err).__name__}): repair it first"
        ) from None
    out = path.with_name(f"{path.stem}_submission.zip")
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(path.name, data)
        zf.writestr(MANIFEST, json.dumps(manifest(path.name, data), indent=1) + "\n")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course.submit", description=__doc__)
    parser.add_argument("notebook", help="the notebook's file, e.g. a02_backprop_modules.ipynb")
    args = parser.parse_args(argv)
    try:
        out = submit(args.notebook)
    except ValueError as err:
        print(err, file=sys.stderr)
        return 1
    with zipfile.ZipFile(out) as zf:
        info = json.loads(zf.read(MANIFEST))
    print(f"wrote {out} ({info['notebook']}, sha256 {info['sha256']}, course {info['course_version']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
