"""The judge's wire format, shared by both ends: plain values as JSON plus the arrays in one ``.npz``.

A message is an 8-byte header (JSON length, blob length; big-endian uint32), the JSON, then the blob: an
``.npz`` written without pickle. Plain values are None, bool, int, float, str, NumPy arrays and scalars of
numeric, boolean or string dtype, and tuples, lists and dicts (with str or int keys) of plain values.
Anything else crosses as a handle: an id the other side can call, read an attribute of, or pass back.
This file has no imports beyond the standard library and NumPy; it runs on both sides of the sandbox.
"""

from __future__ import annotations

import io
import json
import math
import struct

import numpy as np

HEADER = struct.Struct(">II")
PLAIN_KINDS = "biufcU"  # bool, int, uint, float, complex, unicode: what np.load(allow_pickle=False) takes


class WireError(ValueError):
    """A malformed or oversized message."""


def _float(x: float):
    return x if math.isfinite(x) else {"float": repr(x)}


class Encoder:
    """Turns a value into (JSON tree, arrays); ``handle(obj)`` says how to send a non-plain object."""

    def __init__(self, handle):
        self.arrays: list[np.ndarray] = []
        self.seen: dict[int, int] = {}
        self.handle = handle

    def array(self, a: np.ndarray) -> dict:
        key = id(a)
        if key not in self.seen:
            self.seen[key] = len(self.arrays)
            self.arrays.append(a)
        return {"a": self.seen[key]}

    def encode(self, value, depth: int = 0):
        if depth > 50:
            raise WireError("a value nested more than 50 levels deep")
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int) and type(value) in (int, bool):
            return value if abs(value) < 2**53 else {"bigint": str(value)}
        if type(value) is float:
            return _float(value)
        if type(value) is complex:
            return self.array(np.asarray(value))
        if type(value) is np.ndarray and value.dtype.kind in PLAIN_KINDS:
            return self.array(value)
        if (
            isinstance(value, np.generic)
            and type(value).__module__ == "numpy"
            and value.dtype.kind in PLAIN_KINDS
        ):
            return self.array(np.asarray(value))
        if isinstance(value, np.dtype):
            return {"dtype": value.str}
        if isinstance(value, type) and issubclass(value, np.generic) and value.__module__ == "numpy":
            return {"dtype": np.dtype(value).str, "scalar_type": True}
        if type(value) is tuple:
            return {"t": [self.encode(v, depth + 1) for v in value]}
        if type(value) is list:
            return [self.encode(v, depth + 1) for v in value]
        if type(value) is dict and all(type(k) in (str, int) for k in value):
            return {"d": [[k, self.encode(v, depth + 1)] for k, v in value.items()]}
        if type(value) is dict:  # keys that are objects (graph nodes) or tuples
            return {"dk": [[self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in value.items()]}
        if type(value) in (set, frozenset):
            return {"set": [self.encode(v, depth + 1) for v in value]}
        return self.handle(value)


def decode(tree, arrays: list[np.ndarray], handle, depth: int = 0):
    """The value of a JSON tree; ``handle(node)`` makes the object of a handle node."""
    if depth > 60:
        raise WireError("a value nested too deep")
    if tree is None or isinstance(tree, (bool, int, float, str)):
        return tree
    if isinstance(tree, list):
        return [decode(v, arrays, handle, depth + 1) for v in tree]
    if not isinstance(tree, dict) or len(tree) == 0:
        raise WireError(f"not a value: {str(tree)[:80]}")
    if "a" in tree:
        index = tree["a"]
        if not isinstance(index, int) or not 0 <= index < len(arrays):
            raise WireError("an array index out of range")
        return arrays[index]
    if "t" in tree:
        return tuple(decode(v, arrays, handle, depth + 1) for v in tree["t"])
    if "d" in tree:
        out = {}
        for item in tree["d"]:
            if not (isinstance(item, list) and len(item) == 2 and type(item[0]) in (str, int)):
                raise WireError("a dict entry is not a (key, value) pair")
            out[item[0]] = decode(item[1], arrays, handle, depth + 1)
        return out
    if "dtype" in tree:
        try:
            dtype = np.dtype(str(tree["dtype"])[:32])
        except TypeError:
            raise WireError("not a dtype") from None
        return dtype.type if tree.get("scalar_type") else dtype
    if "dk" in tree or "set" in tree:
        items = tree.get("dk", tree.get("set"))
        if not isinstance(items, list):
            raise WireError("a malformed dict or set")
        try:
            if "set" in tree:
                return {decode(v, arrays, handle, depth + 1) for v in items}
            out = {}
            for item in items:
                if not (isinstance(item, list) and len(item) == 2):
                    raise WireError("a dict entry is not a (key, value) pair")
                out[decode(item[0], arrays, handle, depth + 1)] = decode(item[1], arrays, handle, depth + 1)
            return out
        except TypeError:
            raise WireError("an unhashable dict key or set member") from None
    if "float" in tree:
        return float(tree["float"]) if tree["float"] in ("nan", "inf", "-inf") else _bad(tree)
    if "bigint" in tree:
        return int(str(tree["bigint"])[:4000])
    return handle(tree)


BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


def rng_state(rng: np.random.Generator) -> dict:
    return {"rng": rng.bit_generator.state}


def rng_from(node: dict) -> np.random.Generator:
    """A Generator in the state ``node`` describes (only NumPy's own bit generators)."""
    state = node.get("rng")
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if name not in BIT_GENERATORS:
        raise WireError("not a random generator's state")
    bits = getattr(np.random, name)()
    try:
        bits.state = state
    except (TypeError, ValueError, KeyError) as err:
        raise WireError(f"not a random generator's state ({type(err).__name__})") from None
    return np.random.Generator(bits)


def _bad(tree):
    raise WireError(f"not a value: {str(tree)[:80]}")


def pack(message: dict, arrays: list[np.ndarray]) -> bytes:
    text = json.dumps(message).encode()
    blob = b""
    if arrays:
        buffer = io.BytesIO()
        np.savez(buffer, *arrays)
        blob = buffer.getvalue()
    return HEADER.pack(len(text), len(blob)) + text + blob


def _recv_exactly(sock, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = sock.recv(min(n - got, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the connection")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def receive(sock, max_json: int = 8 << 20, max_blob: int = 256 << 20) -> tuple[dict, list[np.ndarray]]:
    """One message: (JSON object, arrays). Raises WireError on anything malformed or too large."""
    n_json, n_blob = HEADER.unpack(_recv_exactly(sock, HEADER.size))
    if n_json > max_json or n_blob > max_blob:
        raise WireError(f"a message of {n_json + n_blob} bytes is over the limit")
    try:
        message = json.loads(_recv_exactly(sock, n_json))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise WireError(f"not JSON: {err}") from None
    if not isinstance(message, dict):
        raise WireError("a message must be a JSON object")
    arrays: list[np.ndarray] = []
    if n_blob:
        blob = _recv_exactly(sock, n_blob)
        try:
            with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
                arrays = [npz[f"arr_{i}"] for i in range(len(npz.files))]
        except Exception as err:  # noqa: BLE001 (any parse failure is the same: malformed)
            raise WireError(f"not a plain .npz: {type(err).__name__}") from None
        if any(a.dtype.kind not in PLAIN_KINDS for a in arrays):
            raise WireError("an array of a dtype that is not plain")
    return message, arrays
