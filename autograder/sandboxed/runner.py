"""Inside the sandbox: execute the prepared notebook cell by cell in a fresh kernel.

``python runner.py NOTEBOOK OUT CELL_SECONDS OUTPUT_BYTES`` runs every cell of NOTEBOOK (errors do not
stop it) and rewrites OUT after each cell, so whatever happens later the cells before are on record. A cell
past CELL_SECONDS, or one that kills the kernel (``os._exit``, a segfault, running out of memory), is
recorded with an error output; the kernel is then restarted, the earlier cells that are not tests run
again, and execution goes on after the failed cell. Each cell's outputs are capped at OUTPUT_BYTES.
"""

from __future__ import annotations

import json
import os
import sys
import time

# jsonschema's optional URI checker (rfc3987_syntax) takes over a second to import and nbformat never
# needs it: without it the runner starts in a fraction of a second.
sys.modules.setdefault("rfc3987_syntax", None)

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402
from nbclient.exceptions import CellTimeoutError, DeadKernelError  # noqa: E402
from nbclient.util import run_sync  # noqa: E402

MAX_RESTARTS = 3


def _size(output) -> int:
    return len(json.dumps(output))


def cap_outputs(cell, limit: int) -> None:
    kept, used = [], 0
    for output in cell.get("outputs", []):
        size = _size(output)
        if used + size > limit:
            if output.get("output_type") == "stream":
                room = max(limit - used - 200, 0)
                output["text"] = output["text"][:room]
                kept.append(output)
            kept.append(
                nbformat.v4.new_output("stream", name="stdout", text=f"\n[output cut at {limit} bytes]\n")
            )
            break
        kept.append(output)
        used += size
    cell["outputs"] = kept


def error_output(ename: str, evalue: str):
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def is_test(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


def main() -> None:
    path, out, cell_seconds, output_bytes = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    nb = nbformat.read(path, as_version=4)
    status = {"cells": {}, "restarts": 0}

    def save():
        nb.metadata["course_runner"] = status
        with open(out + ".tmp", "w") as f:
            nbformat.write(nb, f)
        os.replace(out + ".tmp", out)

    client = NotebookClient(
        nb,
        timeout=cell_seconds,
        kernel_name="python3",
        allow_errors=True,
        interrupt_on_timeout=False,
        resources={"metadata": {"path": "."}},
    )
    done: list[int] = []
    index = 0
    client.km = client.create_kernel_manager()
    client.start_new_kernel()
    client.start_new_kernel_client()
    while index < len(nb.cells):
        cell = nb.cells[index]
        if cell.cell_type != "code":
            index += 1
            continue
        start = time.monotonic()
        failure = None
        try:
            client.execute_cell(cell, index)
        except CellTimeoutError:
            failure = ("timeout", "TimeoutError", f"this cell ran past the {cell_seconds:g} s limit per cell")
        except DeadKernelError:
            failure = (
                "crashed",
                "KernelDied",
                "the kernel died while this cell ran (os._exit, a crash, or out of memory)",
            )
        except Exception as err:  # noqa: BLE001 (a runner failure is recorded with the cell)
            failure = ("crashed", type(err).__name__, str(err)[:300])
        cap_outputs(cell, output_bytes)
        errored = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
        status["cells"][str(index)] = {
            "status": failure[0] if failure else ("error" if errored else "ok"),
            "seconds": round(time.monotonic() - start, 3),
        }
        if failure:
            cell.setdefault("outputs", []).append(error_output(failure[1], failure[2]))
            save()
            if status["restarts"] >= MAX_RESTARTS:
                break
            status["restarts"] += 1
            try:
                run_sync(client.km.shutdown_kernel)(now=True)
            except Exception:  # noqa: BLE001
                pass
            client.km = client.create_kernel_manager()
            client.start_new_kernel()
            client.start_new_kernel_client()
            for earlier in done:  # the state the later cells expect, without the tests and the failed cell
                replay = nbformat.from_dict(dict(nb.cells[earlier]))
                try:
                    client.execute_cell(replay, earlier)
                except Exception:  # noqa: BLE001
                    break
        else:
            if not is_test(cell):
                done.append(index)
            save()
        index += 1
    status["finished"] = True
    save()
    try:
        run_sync(client.km.shutdown_kernel)(now=True)
    except Exception:  # noqa: BLE001
        pass


if __name__ == "__main__":
    main()
