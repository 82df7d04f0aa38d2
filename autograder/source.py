"""Text sources of the assignments and the notebooks built from them (see docs/authoring.md).

The one file a person edits for assignment ``aNN_name`` is ``solutions/aNN_name/aNN_name.py``, a jupytext
*percent* notebook: ``# %% [markdown]`` cells of prose, ``# %%`` code cells, nbgrader's cell metadata in
the cell header (``# %% nbgrader={"grade": true, "grade_id": ..., "points": 2, ...}``). Its answer cells
hold no solution: each names the library's graded region that *is* the solution,

    def affine_forward(x, w, b):
        \"\"\"...\"\"\"
        ### BEGIN SOLUTION a02.affine_forward
        ### END SOLUTION

and the build fills the region's text in (``course/layers/affine.py``, between ``# BEGIN GRADED
a02.affine_forward`` and ``# END GRADED``), at the marker's indentation. So a solution exists once, in the
library; the solution notebook, the student edition (which stubs the region) and the grader read it there.

- ``build(assignment)`` writes ``solutions/<a>/<a>.ipynb``: the source with its regions filled, executed
  once so that the visible-test cells (tag ``nbval-check-output``) carry their outputs (nbval compares
  them on every CI run); every other cell is stored without outputs.
- ``sync(assignment)`` goes the other way, for edits made to the ``.ipynb`` in JupyterLab (nbgrader's
  Create Assignment toolbar included): the notebook's cells become the text source again, each filled
  region collapsed back to its marker. A region whose text differs from the library's is an error naming
  the cell and the library file, unless ``update_library=True`` writes the new text into the library.
"""

from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat

from autograder import settings
from autograder.editions import library_regions

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
CHECK_OUTPUT_TAG = "nbval-check-output"
TEXT_FORMAT = "py:percent"
# No header in the text source: the build sets the kernel, and nothing in the file depends on the
# jupytext version. Cell headers carry nbgrader's metadata and the tags, nothing else.
JUPYTEXT_METADATA = {"notebook_metadata_filter": "-all", "cell_metadata_filter": "tags,nbgrader,-all"}

SOLUTION_BEGIN = re.compile(
    r"^(?P<indent>[ \t]*)### BEGIN SOLUTION(?:[ \t]+(?P<region>a\d\d\.[A-Za-z_]\w*))?[ \t]*$"
)
SOLUTION_END = re.compile(r"^[ \t]*### END SOLUTION[ \t]*$")


class SourceError(ValueError):
    """A text source or a notebook that cannot be built or synced; the message names the cell."""


def source_path(assignment: str, source_dir: Path = settings.SOURCE_DIR) -> Path:
    return source_dir / assignment / f"{assignment}.py"


def notebook_path(assignment: str, source_dir: Path = settings.SOURCE_DIR) -> Path:
    return source_dir / assignment / f"{assignment}.ipynb"


# ---- the library's graded regions ---------------------------------------------------------------------


@dataclass(frozen=True)
class RegionText:
    name: str  # 'a02.affine_forward'
    path: Path  # the library file
    first_line: int  # the BEGIN GRADED line (1-based)
    last_line: int  # the END GRADED line
    indent: str  # the markers' indentation in the library file
    text: str  # the lines in between, dedented by ``indent``, with a final newline


def region_texts(library: Path = settings.LIBRARY_DIR) -> dict[str, RegionText]:
    """Every graded region of the library by name; a name used twice is an error."""
    out: dict[str, RegionText] = {}
    for region in library_regions(library):
        if region.kind != "GRADED":
            continue
        name = f"a{region.assignment:02d}.{region.task}"
        path = library.parent / region.path
        lines = path.read_text().splitlines(keepends=True)
        begin = lines[region.first_line - 1]
        indent = begin[: len(begin) - len(begin.lstrip())]
        body = lines[region.first_line : region.last_line - 1]
        if name in out:
            raise SourceError(f"graded region {name} is defined twice: {out[name].path} and {path}")
        out[name] = RegionText(name, path, region.first_line, region.last_line, indent, _dedent(body, indent))
    return out


def _dedent(lines: list[str], indent: str) -> str:
    text = "".join(line[len(indent) :] if line.startswith(indent) else line.lstrip(" \t") for line in lines)
    return text if text.endswith("\n") or not text else text + "\n"


def _indent(text: str, indent: str) -> list[str]:
    return [(indent + line if line.strip() else "") for line in text.splitlines()]


# ---- filling and emptying answer cells ----------------------------------------------------------------


def _cell_name(cell, index: int) -> str:
    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
    return f"cell {index} ({grade_id})" if grade_id else f"cell {index}"


def _solution_blocks(source: str, where: str):
    """Yield (indent, region name or None, body lines, start, end) for each solution block of a cell."""
    lines = source.split("\n")
    i = 0
    while i < len(lines):
        begin = SOLUTION_BEGIN.match(lines[i])
        if "BEGIN SOLUTION" in lines[i] and not begin:
            raise SourceError(f"{where}: malformed solution marker {lines[i].strip()!r}")
        if begin:
            for j in range(i + 1, len(lines)):
                if "BEGIN SOLUTION" in lines[j]:
                    raise SourceError(f"{where}: solution blocks must not nest")
                if SOLUTION_END.match(lines[j]):
                    yield begin.group("indent"), begin.group("region"), lines[i + 1 : j], i, j
                    i = j
                    break
            else:
                raise SourceError(f"{where}: '### BEGIN SOLUTION' is never closed")
        i += 1


def _rewrite_blocks(source: str, where: str, rewrite) -> str:
    lines = source.split("\n")
    out, last = [], 0
    for indent, region, body, start, end in _solution_blocks(source, where):
        out += lines[last:start]
        out += rewrite(indent, region, body)
        last = end + 1
    out += lines[last:]
    return "\n".join(out)


def fill_cell(source: str, regions: dict[str, RegionText], where: str) -> str:
    """Fill each named, empty solution block with its library region (at the marker's indentation)."""

    def rewrite(indent, region, body):
        if region is None:
            raise SourceError(f"{where}: '### BEGIN SOLUTION' needs the name of its library region")
        if region not in regions:
            raise SourceError(f"{where}: no graded region {region} in course/ ('# BEGIN GRADED {region}')")
        text = regions[region].text
        if any(line.strip() for line in body) and _dedent([b + "\n" for b in body], indent) != text:
            raise SourceError(
                f"{where}: the solution written in the source differs from the library's region {region} "
                f"({regions[region].path}); solutions live in the library: edit them there"
            )
        return [f"{indent}### BEGIN SOLUTION {region}", *_indent(text, indent), f"{indent}### END SOLUTION"]

    return _rewrite_blocks(source, where, rewrite)


def empty_cell(
    source: str, regions: dict[str, RegionText], where: str, update_library: bool = False
) -> tuple[str, dict[str, str]]:
    """Collapse each filled block back to its marker; return the new source and changed regions' texts."""
    changed: dict[str, str] = {}

    def rewrite(indent, region, body):
        if region is None:
            raise SourceError(
                f"{where}: '### BEGIN SOLUTION' has lost the name of its library region (write it back: "
                f"'### BEGIN SOLUTION aNN.<task>')"
            )
        if region not in regions:
            raise SourceError(f"{where}: no graded region {region} in course/")
        text = _dedent([b + "\n" for b in body], indent)
        if text != regions[region].text:
            if not update_library:
                raise SourceError(
                    f"{where}: the solution differs from the library's region {region} in "
                    f"{regions[region].path}: edit the library, or sync with --update-library to write "
                    f"the notebook's version there"
                )
            changed[region] = text
        return [f"{indent}### BEGIN SOLUTION {region}", f"{indent}### END SOLUTION"]

    return _rewrite_blocks(source, where, rewrite), changed


def write_region(region: RegionText, text: str) -> None:
    """Replace the body of one library region with ``text`` (indented like its markers)."""
    lines = region.path.read_text().splitlines(keepends=True)
    body = [line + "\n" for line in _indent(text, region.indent)]
    lines[region.first_line : region.last_line - 1] = body
    region.path.write_text("".join(lines))


# ---- reading, building, syncing -----------------------------------------------------------------------


def read_source(assignment: str, source_dir: Path = settings.SOURCE_DIR):
    path = source_path(assignment, source_dir)
    if not path.is_file():
        raise SourceError(f"{assignment}: no text source {path}")
    return jupytext.reads(path.read_text(), fmt=TEXT_FORMAT)


def _notebook_metadata():
    return nbformat.NotebookNode({"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}})


def normalise(nb):
    """Kernel metadata and stable cell ids (the grade id for nbgrader cells, else its position)."""
    nb.metadata = _notebook_metadata()
    nb.nbformat, nb.nbformat_minor = 4, 5
    seen: set[str] = set()
    for i, cell in enumerate(nb.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        cell_id = grade_id if grade_id and grade_id not in seen else f"cell-{i:03d}"
        seen.add(cell_id)
        cell["id"] = cell_id
        # jupytext's layout hints (lines_to_next_cell, ...) are not part of the notebook
        cell.metadata = nbformat.NotebookNode(
            {k: v for k, v in cell.metadata.items() if k in ("nbgrader", "tags")}
        )
        if cell.cell_type == "code":
            cell.execution_count, cell.outputs = None, []
    return nb


def built_notebook(
    assignment: str, source_dir: Path = settings.SOURCE_DIR, library: Path = settings.LIBRARY_DIR
):
    """The solution notebook of ``assignment`` as built from its text source, without outputs."""
    nb = read_source(assignment, source_dir)
    regions = region_texts(library)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.source = fill_cell(cell.source, regions, f"{assignment}.py {_cell_name(cell, i)}")
    nb = normalise(nb)
    nbformat.validate(nb)
    return nb


def _coalesce_streams(outputs: list) -> list:
    """Merge consecutive chunks of one stream: how a kernel splits a stream varies from run to run."""
    merged: list = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if out.get("output_type") == "stream" and prev is not None and prev.get("output_type") == "stream":
            if prev["name"] == out["name"]:
                prev["text"] = "".join(prev["text"]) + "".join(out["text"])
                continue
        merged.append(out)
    return merged


def execute_checked_outputs(nb, cwd: Path, timeout: int = 600):
    """Run ``nb`` top to bottom (one BLAS thread, as CI does); keep outputs on checked cells only."""
    from nbclient import NotebookClient

    env = {k: "1" for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    saved = {k: os.environ.get(k) for k in [*env, "MPLBACKEND"]}
    os.environ.update(env, MPLBACKEND="Agg")  # the kernel inherits this process's environment
    try:
        NotebookClient(
            nb,
            timeout=timeout,
            kernel_name=KERNELSPEC["name"],
            record_timing=False,
            resources={"metadata": {"path": str(cwd)}},
        ).execute()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return keep_checked_outputs(nb)


def keep_checked_outputs(nb):
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        if CHECK_OUTPUT_TAG in cell.metadata.get("tags", []):
            cell.outputs = _coalesce_streams(cell.get("outputs", []))
        else:
            cell.execution_count, cell.outputs = None, []
    nb.metadata = _notebook_metadata()
    return nb


def graft_outputs(nb, committed) -> None:
    """Copy the stored outputs of checked cells from ``committed`` onto ``nb`` (matched by cell id)."""
    stored = {c.get("id"): c for c in committed.cells if c.cell_type == "code"}
    for cell in nb.cells:
        old = stored.get(cell.get("id"))
        if cell.cell_type == "code" and old is not None and CHECK_OUTPUT_TAG in cell.metadata.get("tags", []):
            cell.outputs, cell.execution_count = copy.deepcopy(old.outputs), old.execution_count


def is_current(assignment: str, source_dir: Path = settings.SOURCE_DIR) -> bool:
    """True when the committed solution notebook is the build of its text source (stored outputs aside:
    nbval re-runs and compares those)."""
    built = built_notebook(assignment, source_dir)
    committed = nbformat.read(str(notebook_path(assignment, source_dir)), as_version=4)
    graft_outputs(built, committed)
    return json.loads(nbformat.writes(built)) == json.loads(nbformat.writes(committed))


def build(
    assignment: str,
    *,
    execute: bool = True,
    source_dir: Path = settings.SOURCE_DIR,
    library: Path = settings.LIBRARY_DIR,
) -> Path:
    """Write ``solutions/<a>/<a>.ipynb`` from the text source (executed for its checked outputs)."""
    nb = built_notebook(assignment, source_dir, library)
    path = notebook_path(assignment, source_dir)
    if execute:
        nb = execute_checked_outputs(nb, path.parent)
    elif path.is_file():
        graft_outputs(nb, nbformat.read(str(path), as_version=4))
    nbformat.validate(nb)
    nbformat.write(nb, str(path))
    return path


def as_text(nb) -> str:
    """The text source of notebook ``nb`` (regions as they are in ``nb``), in jupytext's canonical form."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.metadata = {k: v for k, v in cell.metadata.items() if k in ("nbgrader", "tags")}
    nb.metadata = nbformat.NotebookNode({"jupytext": dict(JUPYTEXT_METADATA)})
    return jupytext.writes(nb, fmt=TEXT_FORMAT)


def sync(
    assignment: str,
    *,
    update_library: bool = False,
    source_dir: Path = settings.SOURCE_DIR,
    library: Path = settings.LIBRARY_DIR,
) -> list[str]:
    """Write the text source from the (JupyterLab-edited) solution notebook; return the regions changed."""
    nb = nbformat.read(str(notebook_path(assignment, source_dir)), as_version=4)
    regions = region_texts(library)
    changed: dict[str, str] = {}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.source, new = empty_cell(
                cell.source, regions, f"{assignment}.ipynb {_cell_name(cell, i)}", update_library
            )
            changed.update(new)
    # Write the library first (a cell that fails above leaves both files as they were).
    for name in sorted(changed, key=lambda n: (str(regions[n].path), -regions[n].first_line)):
        write_region(regions[name], changed[name])
    source_path(assignment, source_dir).write_text(as_text(nb))
    return sorted(changed)


def is_canonical(text: str) -> bool:
    """True when jupytext writes ``text`` back unchanged (so ``sync`` after ``build`` changes nothing)."""
    return as_text(jupytext.reads(text, fmt=TEXT_FORMAT)) == text


def solution_regions(nb) -> list[tuple[str, str, str]]:
    """(cell grade id, region name, dedented text) of every solution block of a built notebook."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for indent, region, body, _, _ in _solution_blocks(cell.source, _cell_name(cell, i)):
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
            found.append((grade_id, region or "", _dedent([b + "\n" for b in body], indent)))
    return found
