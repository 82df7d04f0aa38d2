"""The judge's end of the conversation with the sandbox's kernel: proxies of the notebook's objects.

A ``Connection`` is one hidden test cell's conversation (``autograder/sandboxed/course_judge_agent.py``
is the other end). A ``RemoteObject`` stands for an object of the notebook that is not a plain value: a
function, a class, an instance, a cache. Calling it sends the arguments (plain values, other proxies,
random generators by state, and functions of the checks as callbacks) and brings back plain values and
proxies. Arrays, dicts and lists the call changed in place, and generators it drew from, are updated on
this side too, so a check sees in-place changes as it would in the notebook. Library objects (the
reference) are never sent: ``_sendable_callable``.
"""

from __future__ import annotations

import builtins
import contextlib
import socket
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from autograder.sandboxed import wire


class JudgeError(RuntimeError):
    """A fault of the grader itself (a specification sending the reference into the sandbox, ...)."""


class StudentValueError(AssertionError):
    """The sandbox sent something that is not a plain value, or broke the protocol."""


class SandboxGone(AssertionError):
    """The kernel went away (or stopped answering) while a check ran."""


class RemoteError(Exception):
    """An exception of a type that is not a builtin, raised by the student's code."""


# ---- the protocol, judge side ------------------------------------------------------------------------


def _from_student(err: dict) -> BaseException:
    kind, message = str(err.get("type", "Exception"))[:100], str(err.get("message", ""))[:2000]
    cls = getattr(builtins, kind, None) if err.get("builtin") else None
    if isinstance(cls, type) and issubclass(cls, Exception) and cls.__module__ == "builtins":
        try:
            exc = cls(message)
        except TypeError:
            exc = RemoteError(f"{kind}: {message}")
    else:
        exc = RemoteError(f"{kind}: {message}")
    exc.student_type = kind  # type: ignore[attr-defined]
    return exc


def _sendable_callable(fn: Any) -> bool:
    """Functions of the checks (and NumPy's) may be called back from the sandbox; the library's may not:
    the reference never crosses into the sandbox."""
    module = getattr(fn, "__module__", "") or ""
    if hasattr(fn, "func"):  # functools.partial
        return _sendable_callable(fn.func)
    return module.startswith(("autograder.checks", "numpy")) or module == "__main__"


class Connection:
    """One hidden test cell's conversation with the kernel."""

    def __init__(self, sock: socket.socket, deadline: float):
        self.sock = sock
        self.deadline = deadline
        self.proxies: dict[int, RemoteObject] = {}
        self.callbacks: dict[int, Callable] = {}
        self._sent_rngs: list[np.random.Generator] = []

    def _proxy(self, node: dict) -> Any:
        if "rng" in node:
            return wire.rng_from(node)
        key = node.get("h")
        if not isinstance(key, int):
            raise StudentValueError("the notebook sent a malformed object reference")
        if key not in self.proxies:
            self.proxies[key] = RemoteObject(self, key, str(node.get("type", "?"))[:80])
        return self.proxies[key]

    def _encode_handle(self, value: Any) -> dict:
        if isinstance(value, np.random.Generator):
            self._sent_rngs.append(value)
            return wire.rng_state(value)
        if isinstance(value, RemoteObject):
            if value._conn is not self:
                raise JudgeError("an object of another test cell's kernel connection")
            return {"h": value._key}
        if callable(value) and _sendable_callable(value):
            key = len(self.callbacks) + 1
            self.callbacks[key] = value
            return {"cb": key}
        if type(value).__module__.startswith("autograder.checks"):  # a stand-in object of a check
            key = len(self.callbacks) + 1
            self.callbacks[key] = value
            return {"jo": key, "type": type(value).__name__}
        raise JudgeError(f"a {type(value).__name__} cannot be sent into the sandbox")

    def _timeout(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise SandboxGone("the time limit ran out while this check ran")
        return left

    def _send(self, message: dict, arrays: list[np.ndarray]) -> None:
        try:
            self.sock.settimeout(self._timeout())
            self.sock.sendall(wire.pack(message, arrays))
        except OSError:
            raise SandboxGone("the kernel stopped answering (it crashed or was stopped)") from None

    def _receive(self) -> tuple[dict, list[np.ndarray]]:
        try:
            self.sock.settimeout(self._timeout())
            return wire.receive(self.sock)
        except TimeoutError:
            raise SandboxGone("the code did not return within the time limit") from None
        except (EOFError, OSError):
            raise SandboxGone("the kernel stopped answering (it crashed or was stopped)") from None
        except wire.WireError as err:
            raise StudentValueError(
                f"the notebook sent something that is not a plain value ({err})"
            ) from None

    def decode(self, tree: Any, arrays: list[np.ndarray]) -> Any:
        try:
            return wire.decode(tree, arrays, self._proxy)
        except wire.WireError as err:
            raise StudentValueError(
                f"the notebook sent something that is not a plain value ({err})"
            ) from None

    def request(self, message: dict) -> Any:
        """Send a request (its values under 'args', 'kwargs', 'value' and 'key' encoded) and wait for the
        answer, running the callbacks the sandbox asks for meanwhile."""
        containers = []  # a call's dict and list arguments, by position, to update as the call left them
        if message.get("op") == "call":
            flat = [*message["args"], *message["kwargs"].values()]
            containers = [v if type(v) in (dict, list) else None for v in flat]
        enc = wire.Encoder(self._encode_handle)
        self._sent_rngs = []
        for key in ("args", "kwargs", "value", "key"):
            if key in message:
                message[key] = enc.encode(message[key])
        self._send(message, enc.arrays)
        sent, sent_rngs = enc.arrays, self._sent_rngs
        while True:
            reply, arrays = self._receive()
            self._apply_changes(reply.get("changed", []), arrays, sent)
            self._apply_containers(reply.get("containers", []), arrays, containers)
            states = reply.get("rngs", [])
            if isinstance(states, list) and len(states) == len(sent_rngs):
                for rng, state in zip(sent_rngs, states, strict=True):
                    with contextlib.suppress(wire.WireError, AttributeError):
                        rng.bit_generator.state = wire.rng_from({"rng": state}).bit_generator.state
            if reply.get("op") == "callback":
                self._run_callback(reply, arrays)
                continue
            if "error" in reply:
                raise _from_student(reply["error"] if isinstance(reply["error"], dict) else {})
            if "value" not in reply:
                raise StudentValueError("the notebook's answer to the grader was malformed")
            return self.decode(reply["value"], arrays)

    def _apply_changes(self, changed: Any, arrays: list[np.ndarray], sent: list[np.ndarray]) -> None:
        if not isinstance(changed, list):
            return
        for item in changed:
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], int)):
                continue
            index, new = item[0], self.decode(item[1], arrays)
            if 0 <= index < len(sent) and isinstance(new, np.ndarray) and new.shape == sent[index].shape:
                with contextlib.suppress(TypeError, ValueError):
                    np.copyto(sent[index], new, casting="unsafe")

    def _apply_containers(self, items: Any, arrays: list[np.ndarray], containers: list) -> None:
        """Dicts and lists passed to a call, as the call left them (a ``counts`` dict it filled in)."""
        if not isinstance(items, list):
            return
        for item in items:
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], int)):
                continue
            if not 0 <= item[0] < len(containers) or containers[item[0]] is None:
                continue
            target, new = containers[item[0]], self.decode(item[1], arrays)
            if type(target) is dict and type(new) is dict:
                target.clear()
                target.update(new)
            elif type(target) is list and type(new) is list:
                target[:] = new

    def _run_callback(self, message: dict, arrays: list[np.ndarray]) -> None:
        fn = self.callbacks.get(message.get("key"))
        enc = wire.Encoder(self._encode_handle)
        try:
            if fn is None:
                raise StudentValueError("a call of an unknown grader function")
            attr = message.get("attr") or ""
            if attr:
                if not isinstance(attr, str) or attr.startswith("_") or not hasattr(fn, attr):
                    raise AttributeError(f"the grader's object has no attribute {str(attr)[:40]!r}")
                fn = getattr(fn, attr)
                if message.get("get"):  # attribute access: a value, or "it is a method"
                    if callable(fn):
                        self._send({"value": None, "method": True}, [])
                        return
                    self._send({"value": enc.encode(fn)}, enc.arrays)
                    return
            args = self.decode(message.get("args", {"t": []}), arrays)
            kwargs = self.decode(message.get("kwargs", {"d": []}), arrays)
            if not isinstance(args, tuple) or not isinstance(kwargs, dict):
                raise StudentValueError("malformed arguments")
            reply = {"value": enc.encode(fn(*args, **kwargs))}
        except Exception as err:  # noqa: BLE001 (the student's code sees the grader function fail)
            enc = wire.Encoder(self._encode_handle)
            reply = {"error": f"{type(err).__name__}: {err}"[:500]}
        self._send(reply, enc.arrays)

    def get(self, name: str) -> Any:
        return self.request({"op": "get", "name": name})

    def library(self, module: str, name: str) -> Any:
        """An object of the sandbox's own library (the student edition), e.g. its ``Graph``, for inputs."""
        return self.request({"op": "import", "module": module, "name": name})

    def done(self) -> None:
        with contextlib.suppress(AssertionError, OSError):
            self._send({"op": "done"}, [])


class RemoteObject:
    """A non-plain object of the notebook (a function, a class, an instance, a cache).

    One proxy per object and connection, so identity, hashing and dict keys behave as in the notebook."""

    __slots__ = ("_conn", "_key", "_type")

    def __init__(self, conn: Connection, key: int, type_name: str):
        object.__setattr__(self, "_conn", conn)
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_type", type_name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._conn.request({"op": "call", "target": self._key, "args": args, "kwargs": kwargs})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._conn.request({"op": "getattr", "target": self._key, "name": name})

    def __setattr__(self, name: str, value: Any) -> None:
        self._conn.request({"op": "setattr", "target": self._key, "name": name, "value": value})

    def __getitem__(self, key: Any) -> Any:
        return self._conn.request({"op": "getitem", "target": self._key, "key": key})

    def __setitem__(self, key: Any, value: Any) -> None:
        self._conn.request({"op": "setitem", "target": self._key, "key": key, "value": value})

    def __len__(self) -> int:
        n = self._conn.request({"op": "len", "target": self._key})
        if type(n) is not int:
            raise StudentValueError("len() of a notebook object was not an int")
        return n

    def __iter__(self):
        items = self._conn.request({"op": "list", "target": self._key})
        if not isinstance(items, list):
            raise StudentValueError("iterating a notebook object did not give a list")
        return iter(items)

    def __repr__(self) -> str:
        return f"<the notebook's {self._type}>"


def remote_getattr(obj: RemoteObject, name: str) -> Any:
    """``getattr`` on the notebook's object, dunder names included (``__class__``, ``__mro__``, ``__name__``):
    a proxy's own attribute access refuses those, so Python's protocols never reach the sandbox by chance."""
    return obj._conn.request({"op": "getattr", "target": obj._key, "name": name})


def type_name(obj: Any) -> str:
    """The class name of ``obj``, for a proxy the class name of the notebook's object."""
    return obj._type if isinstance(obj, RemoteObject) else type(obj).__name__
