"""The student's side of the judge: inside the sandbox's kernel, it answers the judge's questions.

A hidden test cell becomes ``import course_judge_agent; course_judge_agent.serve("<grade id>")``. ``serve``
connects to the judge's socket and, until the judge says it is done, looks up the notebook's objects,
calls them on the inputs the judge sends and sends back what they return (plain values; anything else as a
handle). Nothing here decides a point: the judge, outside the sandbox, compares and scores. The arrays a
call receives are sent back when the call changed them, so the judge sees changes made in place.
"""

from __future__ import annotations

import builtins
import os
import socket
import sys
import traceback

import numpy as np
from wire import Encoder, decode, pack, receive, rng_from, rng_state

_objects: dict[int, object] = {}  # handle id -> object kept alive for the judge
_ids: dict[int, int] = {}  # id(object) -> handle id


def _handle(obj) -> dict:
    if isinstance(obj, np.random.Generator):
        return rng_state(obj)
    key = id(obj)
    if key not in _ids:
        _ids[key] = len(_objects) + 1
        _objects[_ids[key]] = obj
    return {"h": _ids[key], "type": type(obj).__name__}


_active: list = []  # the judge's requests being answered, innermost last


class _Callback:
    """A function of the judge's, passed as an argument: calling it asks the judge (``attr``: a method
    of one of the judge's objects)."""

    def __init__(self, conn, key: int, call, attr: str = ""):
        self.conn, self.key, self.call, self.attr = conn, key, call, attr

    def __call__(self, *args, **kwargs):
        call = _active[-1] if _active and _active[-1] is not None else self.call
        return call.callback(self.key, args, kwargs, self.attr)


class _JudgeObject:
    """An object of the judge's (a stand-in model that records its calls): its methods call the judge."""

    def __init__(self, conn, key: int, call, type_name: str):
        self._conn, self._key, self._call, self._type = conn, key, call, type_name

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        call = _active[-1] if _active and _active[-1] is not None else self._call
        return call.callback(self._key, (), {}, name, get=True)

    def __repr__(self) -> str:
        return f"<the grader's {self._type}>"


class _Call:
    """One call the judge asked for: its argument arrays, to send back those that change."""

    def __init__(self, conn):
        self.conn = conn
        self.arrays: list[tuple[np.ndarray, np.ndarray]] = []  # (the argument, its value before)
        self.containers: list[tuple[int, object]] = []  # (position among the arguments, a dict or list)
        self.rngs: list[np.random.Generator] = []  # random generators received, in order

    def resolve(self, node):
        if "rng" in node:
            rng = rng_from(node)
            self.rngs.append(rng)
            return rng
        if "h" in node:
            return _objects[node["h"]]
        if "cb" in node:
            return _Callback(self.conn, node["cb"], self)
        if "jo" in node:
            return _JudgeObject(self.conn, node["jo"], self, str(node.get("type", "object")))
        raise ValueError(f"unknown handle {node}")

    def decode_args(self, tree, arrays):
        value = decode(tree, arrays, self.resolve)
        self.arrays = [(a, a.copy()) for a in arrays]
        return value

    def track(self, args, kwargs) -> None:
        flat = [*args, *kwargs.values()]
        self.containers = [(i, v) for i, v in enumerate(flat) if type(v) in (dict, list)]

    def containers_now(self, enc: Encoder) -> list:
        return [[i, enc.encode(v)] for i, v in self.containers]

    def rng_states(self) -> list:
        return [r.bit_generator.state for r in self.rngs]

    def changed(self, enc: Encoder) -> list:
        out = []
        for i, (a, before) in enumerate(self.arrays):
            if a.shape != before.shape or not np.array_equal(a, before, equal_nan=a.dtype.kind in "fc"):
                out.append([i, enc.encode(a)])
                self.arrays[i] = (a, a.copy())
        return out

    def callback(self, key, args, kwargs, attr="", get=False):
        enc = Encoder(_handle)
        message = {
            "op": "callback",
            "key": key,
            "attr": attr,
            "get": get,
            "args": enc.encode(tuple(args)),
            "kwargs": enc.encode(dict(kwargs)),
        }
        message["changed"] = self.changed(enc)
        message["containers"] = self.containers_now(enc)
        self.conn.sendall(pack(message, enc.arrays))
        reply, arrays = receive(self.conn)
        if "error" in reply:
            if get and str(reply["error"]).startswith("AttributeError"):
                raise AttributeError(reply["error"])
            raise RuntimeError(f"a function of the grader failed: {reply['error']}")
        if get and reply.get("method"):
            return _Callback(self.conn, key, self, attr)
        return decode(reply["value"], arrays, self.resolve)


def _error(err: BaseException) -> dict:
    kind = type(err).__name__
    builtin = isinstance(getattr(builtins, kind, None), type) and type(err) is getattr(builtins, kind)
    frames = traceback.extract_tb(err.__traceback__)
    where = ""
    for frame in reversed(frames):
        if (
            frame.filename.startswith("<ipython-input")
            or "ipykernel" in frame.filename
            or frame.filename.startswith("/tmp/ipykernel")
        ):
            where = f"line {frame.lineno}"
            break
    return {"type": kind, "builtin": builtin, "message": str(err)[:2000], "where": where}


def _answer(conn, request, arrays, namespace):
    op = request.get("op")
    call = _Call(conn)
    _active[-1] = call
    if op == "get":
        name = request["name"]
        if name not in namespace:
            raise NameError(f"name {name!r} is not defined")
        return namespace[name], call
    target = _objects[request["target"]] if "target" in request else None
    if op == "call":
        args = call.decode_args({"t": [request["args"], request["kwargs"]]}, arrays)
        call.track(*args)
        return target(*args[0], **args[1]), call
    if op == "getattr":
        return getattr(target, request["name"]), call
    if op == "setattr":
        setattr(target, request["name"], call.decode_args(request["value"], arrays))
        return None, call
    if op == "getitem":
        return target[call.decode_args(request["key"], arrays)], call
    if op == "setitem":
        key, value = call.decode_args({"t": [request["key"], request["value"]]}, arrays)
        target[key] = value
        return None, call
    if op == "len":
        return len(target), call
    if op == "list":
        return list(target), call
    if op == "import":
        module = str(request["module"])
        if not (module == "course" or module.startswith("course.")):
            raise ImportError("only the course library")
        return getattr(__import__(module, fromlist=["_"]), request["name"]), call
    raise ValueError(f"unknown request {op!r}")


def serve(grade_id: str) -> None:
    """Answer the judge for the test cell ``grade_id`` until it is done with it."""
    path = os.environ.get("COURSE_JUDGE_SOCKET")
    if not path:
        print("(this cell is graded by the course's judge; run outside it, it does nothing)")
        return
    namespace = sys.modules["__main__"].__dict__
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(path)
    conn.sendall(pack({"op": "hello", "cell": grade_id}, []))
    while True:
        request, arrays = receive(conn)
        if request.get("op") == "done":
            break
        enc = Encoder(_handle)
        try:
            _active.append(None)
            value, call = _answer(conn, request, arrays, namespace)
            reply = {"value": enc.encode(value)}
            reply["changed"] = call.changed(enc)
            reply["containers"] = call.containers_now(enc)
            reply["rngs"] = call.rng_states()
        except BaseException as err:  # noqa: BLE001 (every failure of the student's code goes to the judge)
            if isinstance(err, KeyboardInterrupt):
                raise
            enc = Encoder(_handle)
            reply = {"error": _error(err)}
        finally:
            _active.pop()
        conn.sendall(pack(reply, enc.arrays))
    conn.close()


def use_reference(names: list[str], cells: list[str]) -> None:
    """From here on, ``names`` are the reference answers (the second run of a downstream exercise only)."""
    namespace = sys.modules["__main__"].__dict__
    reference = dict(namespace)
    for source in cells:
        exec(compile(source, "<reference answer>", "exec"), reference)  # noqa: S102
    for name in names:
        if name in reference:
            namespace[name] = reference[name]
