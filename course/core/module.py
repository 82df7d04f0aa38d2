"""Modules: thin stateful adapters around the forward/backward pairs (lecture 000, "modularity").

A module owns its parameters and their gradients and remembers the cache between ``forward`` and
``backward``. The maths lives in the pure pairs (``affine_forward`` ...); a module only wires them.

Conventions:
- ``params`` and ``grads`` are dicts with the same keys; ``backward`` *accumulates* into ``grads``
  (``+=``), so a module used twice in one graph gets the sum of both gradients; call ``zero_grad()``
  before each step.
- ``training`` switches dropout and batch norm between train and eval behaviour.
- ``parameters()`` yields ``(qualified name, param, grad)`` for this module and its children, which is
  what optimisers and gradient checks iterate over.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from course.core.backend import to_device


class Module:
    """Base class: parameters, gradients, children, train/eval mode."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}
        self.grads: dict[str, Any] = {}
        self.children: dict[str, Module] = {}
        self.training = True
        self.cache: Any = None

    def forward(self, x: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, dout: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.backward")

    def __call__(self, x: Any) -> Any:
        return self.forward(x)

    def add_param(self, name: str, value: Any) -> None:
        """Register a parameter and a zero gradient of the same shape and dtype."""
        self.params[name] = value
        self.grads[name] = value * 0

    def accumulate(self, name: str, grad: Any) -> None:
        """Add ``grad`` into ``self.grads[name]`` (gradients accumulate over uses)."""
        self.grads[name] += grad

    def parameters(self, prefix: str = "") -> Iterator[tuple[str, Any, Any]]:
        """Yield ``(name, param, grad)`` for this module's parameters and then its children's."""
        for name, p in self.params.items():
            yield prefix + name, p, self.grads[name]
        for child_name, child in self.children.items():
            yield from child.parameters(f"{prefix}{child_name}.")

    def zero_grad(self) -> None:
        """Set every gradient (this module's and its children's) to zero, in place."""
        for _, _, g in self.parameters():
            g[...] = 0

    def train(self, mode: bool = True) -> Module:
        """Set training mode here and in every child; returns self."""
        self.training = mode
        for child in self.children.values():
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode (dropout off, batch norm uses running statistics); returns self."""
        return self.train(False)

    def to(self, device: str) -> Module:
        """Move parameters, gradients and extra state to ``device`` ('cpu' or 'gpu'); returns self."""
        self.params = {k: to_device(v, device) for k, v in self.params.items()}
        self.grads = {k: to_device(v, device) for k, v in self.grads.items()}
        extra = self.extra_state()
        if extra:
            self.load_extra_state({k: to_device(v, device) for k, v in extra.items()})
        for child in self.children.values():
            child.to(device)
        return self

    def extra_state(self) -> dict[str, Any]:
        """Arrays that are state but not parameters (batch norm's running averages); override to add some."""
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        """Restore what ``extra_state`` returned; override together with it."""

    def state_dict(self, prefix: str = "") -> dict[str, Any]:
        """Copies of every parameter and every extra state array, by qualified name (for checkpoints)."""
        state = {prefix + name: p.copy() for name, p in self.params.items()}
        state.update({prefix + name: v.copy() for name, v in self.extra_state().items()})
        for child_name, child in self.children.items():
            state.update(child.state_dict(f"{prefix}{child_name}."))
        return state

    def load_state_dict(self, state: dict[str, Any], prefix: str = "") -> None:
        """Copy parameters (in place) and extra state back; ValueError names a missing or mis-shaped entry."""
        for name, p in self.params.items():
            key = prefix + name
            if key not in state:
                raise ValueError(f"load_state_dict: missing parameter {key!r}")
            if state[key].shape != p.shape:
                raise ValueError(
                    f"load_state_dict: {key} has shape {p.shape}, checkpoint has {state[key].shape}"
                )
            p[...] = state[key]
        extra = {}
        for name in self.extra_state():
            if prefix + name not in state:
                raise ValueError(f"load_state_dict: missing state {prefix + name!r}")
            extra[name] = state[prefix + name].copy()
        self.load_extra_state(extra)
        for child_name, child in self.children.items():
            child.load_state_dict(state, f"{prefix}{child_name}.")


class Sequential(Module):
    """Modules applied in order; backward runs them in reverse."""

    def __init__(self, *layers: Module) -> None:
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise ValueError(f"Sequential: layer {i} must be a Module, got {type(layer).__name__}")
            self.children[str(i)] = layer

    @property
    def layers(self) -> list[Module]:
        return list(self.children.values())

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout: Any) -> Any:
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout
