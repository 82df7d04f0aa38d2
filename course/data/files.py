"""Shipped data files and their SHA-256 checksums (shared by every loader in ``course.data``).

The files sit beside this module and are listed, with their hashes, in ``checksums.sha256`` (the
format of ``sha256sum``, so ``cd course/data && sha256sum -c checksums.sha256`` checks them too).
A loader asks for ``verified_path(name)``; a file that was edited, truncated or replaced by a Git LFS
pointer fails loudly there instead of training on silently different data.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent
CHECKSUM_FILE = DATA_DIR / "checksums.sha256"

_verified: set[str] = set()


def expected_checksums() -> dict[str, str]:
    """Map file name -> expected SHA-256 hex digest, read from ``checksums.sha256``."""
    table = {}
    for line in CHECKSUM_FILE.read_text(encoding="ascii").splitlines():
        if line.strip():
            digest, name = line.split()
            table[name.lstrip("*")] = digest
    return table


def sha256_of(path: Path) -> str:
    """SHA-256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verified_path(name: str) -> Path:
    """Path of the shipped file ``name`` after checking its SHA-256 (once per process).

    Raises ``FileNotFoundError`` if the file is missing and ``RuntimeError`` naming both digests if
    its content differs from what the course was built and tested with.
    """
    table = expected_checksums()
    if name not in table:
        raise ValueError(f"verified_path: unknown data file {name!r}; shipped files are {sorted(table)}")
    path = DATA_DIR / name
    if not path.exists():
        raise FileNotFoundError(f"course data file {path} is missing; reinstall the course package")
    if name not in _verified:
        got = sha256_of(path)
        if got != table[name]:
            raise RuntimeError(
                f"course data file {path} is corrupted or was modified: SHA-256 is {got}, expected "
                f"{table[name]}. Restore it from the repository (git checkout -- course/data/{name})."
            )
        _verified.add(name)
    return path
