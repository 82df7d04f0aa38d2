"""``python -m course.submit``: the notebook and a manifest with its SHA-256 and the edition, in one zip."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from autograder import editions


def _notebook(path):
    nbformat.write(new_notebook(cells=[new_code_cell("x = 1")]), path)
    return path


def test_submit_zips_the_notebook_with_its_sha256_and_the_edition_version(tmp_path):
    editions.build_student_edition("a02_backprop_modules", tmp_path / "edition")
    notebook = _notebook(tmp_path / "a02_backprop_modules.ipynb")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "edition"), "PYTHONSAFEPATH": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "course.submit", notebook.name],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    out = tmp_path / "a02_backprop_modules_submission.zip"
    assert result.stdout.startswith(f"wrote {out.name} ")
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == ["a02_backprop_modules.ipynb", "manifest.json"]
        data = zf.read("a02_backprop_modules.ipynb")
        manifest = json.loads(zf.read("manifest.json"))
    assert data == notebook.read_bytes()
    assert manifest["sha256"] == hashlib.sha256(data).hexdigest() and manifest["bytes"] == len(data)
    assert manifest["notebook"] == "a02_backprop_modules.ipynb"
    assert manifest["course_version"] == "0.1.0+a02" and manifest["edition"] == "a02_backprop_modules"


def test_submit_refuses_a_file_that_is_no_readable_notebook(tmp_path):
    broken = tmp_path / "a01_linear_models.ipynb"
    broken.write_text('{"cells": [')
    result = subprocess.run(
        [sys.executable, "-m", "course.submit", str(broken)], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 1 and "is not a readable notebook" in result.stderr
    assert not (tmp_path / "a01_linear_models_submission.zip").exists()
    missing = subprocess.run(
        [sys.executable, "-m", "course.submit", "nothing.ipynb"], capture_output=True, text=True, cwd=tmp_path
    )
    assert missing.returncode == 1 and "not a notebook file" in missing.stderr


def test_submit_from_python_returns_the_zip_beside_the_notebook(tmp_path):
    from course.submit import MANIFEST, submit

    folder = tmp_path / "work"
    folder.mkdir()
    out = submit(_notebook(folder / "a05_convnets.ipynb"))
    assert out == folder / "a05_convnets_submission.zip"
    with zipfile.ZipFile(out) as zf:
        assert json.loads(zf.read(MANIFEST))["edition"] == ""  # the full library: no edition
