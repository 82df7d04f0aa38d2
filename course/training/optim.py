"""Update rules for gradient descent (lecture 001, "different optimizers"; lecture 004, momentum, Adam).

Each rule is a pure function in the CS231n style,

    next_w, config = rule(w, dw, config)

where ``config`` is a dict holding the hyper-parameters and the rule's state (velocities, moment
estimates, step count). Missing hyper-parameters get the defaults listed in each docstring; state
arrays are created on first use with ``xp.zeros_like(w)``, so one config belongs to one parameter.

``w`` and ``dw`` are never modified: each step computes new state arrays and stores them back in
``config`` (the teaching version of assignment 04; the allocations are small next to a layer's
matrix products). ``Optimizer.step`` writes ``next_w`` back into the module's parameter in place
(``p[...] = next_w``), so modules keep pointing at the same arrays.

Every rule matches ``torch.optim`` step for step (tests/test_optim.py); where the usual textbook form
looks different, the docstring says why it is the same update. Weight decay (L2) and gradient-norm
clipping act on the gradients before the rule, as in PyTorch: ``add_weight_decay``, ``clip_grad_norm``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from course.core.backend import get_array_module
from course.core.validation import check_array, check_positive

Config = dict[str, Any]
UpdateRule = Callable[[Any, Any, "Config | None"], tuple[Any, Config]]


def _check_step(func: str, w: Any, dw: Any, config: Config | None) -> None:
    check_array(func, "w", w, dtype_kind="f")
    check_array(func, "dw", dw, tuple(w.shape), dtype_kind="f")
    if config is not None and not isinstance(config, dict):
        raise ValueError(f"{func}: config must be a dict or None, got {type(config).__name__}")


def sgd(w: Any, dw: Any, config: Config | None = None) -> tuple[Any, Config]:
    """Vanilla stochastic gradient descent, w <- w - lr * dw.

    Inputs:
    - w: parameter array of any shape; dw: its gradient, same shape.
    - config: learning_rate (default 1e-2).

    Returns (next_w, config); next_w is a new array of w's shape and dtype.
    """
    _check_step("sgd", w, dw, config)
    # BEGIN GRADED a04.sgd
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    next_w = w - config["learning_rate"] * dw
    return next_w, config
    # END GRADED


def sgd_momentum(w: Any, dw: Any, config: Config | None = None) -> tuple[Any, Config]:
    """SGD with momentum: v <- mu v - lr dw;  w <- w + v.

    The velocity v is a decaying sum of past steps, so directions that agree from step to step speed
    up and oscillating ones cancel. PyTorch keeps b = mu b + dw and steps w - lr b; with a constant lr
    that is the same update, v = -lr b.

    Inputs:
    - w, dw: parameter and gradient, same shape.
    - config: learning_rate (1e-2), momentum mu (0.9); state velocity (zeros like w).
    """
    _check_step("sgd_momentum", w, dw, config)
    # BEGIN GRADED a04.sgd_momentum
    xp = get_array_module(w, dw)
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    mu, lr = config["momentum"], config["learning_rate"]
    v = mu * config.get("velocity", xp.zeros_like(w)) - lr * dw
    config["velocity"] = v
    next_w = w + v
    return next_w, config
    # END GRADED


def nesterov(w: Any, dw: Any, config: Config | None = None) -> tuple[Any, Config]:
    """Nesterov momentum: v <- mu v - lr dw;  w <- w + mu v - lr dw.

    Nesterov's method evaluates the gradient at the look-ahead point w + mu v. Rewritten in terms of
    the look-ahead parameters (the ones we store), the step is the new velocity plus one more momentum
    term: w + mu v_new - lr dw. This is CS231n's ``w - mu v_prev + (1 + mu) v_new`` and PyTorch's
    ``nesterov=True`` (w - lr (dw + mu b)) in another notation.

    Inputs:
    - w, dw: parameter and gradient, same shape.
    - config: learning_rate (1e-2), momentum mu (0.9); state velocity (zeros like w).
    """
    _check_step("nesterov", w, dw, config)
    # BEGIN GRADED a04.nesterov
    xp = get_array_module(w, dw)
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    mu, lr = config["momentum"], config["learning_rate"]
    v = mu * config.get("velocity", xp.zeros_like(w)) - lr * dw
    config["velocity"] = v
    next_w = w + mu * v - lr * dw  # the look-ahead step, with the new velocity
    return next_w, config
    # END GRADED


def adagrad(w: Any, dw: Any, config: Config | None = None) -> tuple[Any, Config]:
    """Adagrad: cache <- cache + dw^2;  w <- w - lr dw / (sqrt(cache) + eps).

    Each coordinate gets its own step size, smaller for coordinates that have seen large gradients.
    The sum only grows, so steps shrink for ever (what RMSProp and Adadelta fix). eps is added after the
    square root, as in PyTorch.

    Inputs:
    - w, dw: parameter and gradient, same shape.
    - config: learning_rate (1e-2), eps (1e-10, PyTorch's default); state cache (zeros like w).
    """
    _check_step("adagrad", w, dw, config)
    # BEGIN GRADED a04.adagrad
    xp = get_array_module(w, dw)
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("eps", 1e-10)
    cache = config.get("cache", xp.zeros_like(w)) + dw * dw
    config["cache"] = cache
    next_w = w - config["learning_rate"] * dw / (xp.sqrt(cache) + config["eps"])
    return next_w, config
    # END GRADED


def adadelta(w: Any, dw: Any, config: Config | None = None) -> tuple[Any, Config]:
    """Adadelta (Zeiler 2012): a step whose units match w's, with no hand-tuned global scale.

        s     <- rho s + (1 - rho) dw^2
        delta  = sqrt(u + eps) / sqrt(s + eps) * dw
        u     <- rho u + (1 - rho) delta^2
        w     <- w - lr delta

    s averages squared gradients, u squared steps; their ratio turns a gradient into a step. Zeiler's
    rule has lr = 1; PyTorch keeps lr as an extra scale (default 1.0), and eps is inside both roots.

    Inputs:
    - w, dw: parameter and gradient, same shape.
    - config: learning_rate (1.0), rho (0.9), eps (1e-6); state square_avg s and delta_avg u.
    """
    _check_step("adadelta", w, dw, config)
    # BEGIN GRADED a04.adadelta
    xp = get_array_module(w, dw)
    config = {} if config is None else config
    config.setdefault("learning_rate", 1.0)
    config.setdefault("rho", 0.9)
    config.setdefault("eps", 1e-6)
    rho, eps = config["rho"], config["eps"]
    s = rho * config.get("square_avg", xp.zeros_like(w)) + (1 - rho) * dw * dw
    u = config.get("delta_avg", xp.zeros_like(w))
    delta = xp.sqrt(u + eps) / xp.sqrt(s + eps) * dw  # the old u: the new one needs delta
    config["square_avg"] = s
    config["delta_avg"] = rho * u + (1 - rho) * delta * delta
    next_w = w - config["learning_rate"] * delta
    return next_w, config
    # END GRADED


def rmsprop(w: Any, dw: Any, config: Config | None = None) -> tuple[Any, Config]:
    """RMSProp: cache <- rho cache + (1 - rho) dw^2;  w <- w - lr dw / (sqrt(cache) + eps).

    Adagrad with a leaky average instead of a sum, so old gradients are forgotten and steps do not
    shrink to zero. eps sits outside the square root (PyTorch ``RMSprop``; TensorFlow puts it inside,
    which differs only while cache is tiny).

    Inputs:
    - w, dw: parameter and gradient, same shape.
    - config: learning_rate (1e-2), decay_rate rho (0.99), eps (1e-8); state cache (zeros like w).
    """
    _check_step("rmsprop", w, dw, config)
    # BEGIN GRADED a04.rmsprop
    xp = get_array_module(w, dw)
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("eps", 1e-8)
    rho = config["decay_rate"]
    cache = rho * config.get("cache", xp.zeros_like(w)) + (1 - rho) * dw * dw
    config["cache"] = cache
    next_w = w - config["learning_rate"] * dw / (xp.sqrt(cache) + config["eps"])
    return next_w, config
    # END GRADED


def adam(w: Any, dw: Any, config: Config | None = None) -> tuple[Any, Config]:
    """Adam (Kingma and Ba 2015): momentum on the gradient and RMSProp scaling, both bias-corrected.

        t <- t + 1
        m <- beta1 m + (1 - beta1) dw           v <- beta2 v + (1 - beta2) dw^2
        m_hat = m / (1 - beta1^t)               v_hat = v / (1 - beta2^t)
        w <- w - lr m_hat / (sqrt(v_hat) + eps)

    m and v start at zero, so without the corrections the first steps would be biased towards zero.
    PyTorch computes the same quantity as lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps).

    Inputs:
    - w, dw: parameter and gradient, same shape.
    - config: learning_rate (1e-3), beta1 (0.9), beta2 (0.999), eps (1e-8); state m, v (zeros like
      w) and t (0, the number of steps taken).
    """
    _check_step("adam", w, dw, config)
    # BEGIN GRADED a04.adam
    xp = get_array_module(w, dw)
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("eps", 1e-8)
    config.setdefault("t", 0)
    beta1, beta2 = config["beta1"], config["beta2"]
    config["t"] += 1
    t = config["t"]
    m = beta1 * config.get("m", xp.zeros_like(w)) + (1 - beta1) * dw
    v = beta2 * config.get("v", xp.zeros_like(w)) + (1 - beta2) * dw * dw
    config["m"], config["v"] = m, v
    m_hat = m / (1 - beta1**t)  # bias corrections: m and v start at zero
    v_hat = v / (1 - beta2**t)
    next_w = w - config["learning_rate"] * m_hat / (xp.sqrt(v_hat) + config["eps"])
    return next_w, config
    # END GRADED


def _as_list(arrays: Any, name: str, func: str) -> list[Any]:
    if isinstance(arrays, dict):
        return list(arrays.values())
    if isinstance(arrays, (list, tuple)):
        return list(arrays)
    raise ValueError(f"{func}: {name} must be a list, tuple or dict of arrays, got {type(arrays).__name__}")


def add_weight_decay(grads: Any, params: Any, weight_decay: float) -> Any:
    """L2 weight decay on the gradients: g <- g + lambda w, for every parameter.

    This is the gradient of the penalty (lambda / 2) sum ||w||^2 (see ``l2_penalty``) added to the loss,
    and what ``weight_decay`` means in ``torch.optim.SGD/Adam``. (AdamW instead decays w outside the
    adaptive scaling; that is a different rule.)

    Inputs:
    - grads, params: matching lists, tuples or dicts of arrays (same keys / order, same shapes).
    - weight_decay: lambda >= 0.

    Returns the decayed gradients as new arrays, in the same container type; the inputs are unchanged.
    """
    check_positive("add_weight_decay", "weight_decay", weight_decay, allow_zero=True)
    g_list, p_list = (
        _as_list(grads, "grads", "add_weight_decay"),
        _as_list(params, "params", "add_weight_decay"),
    )
    if len(g_list) != len(p_list) or (isinstance(grads, dict) and grads.keys() != params.keys()):
        raise ValueError("add_weight_decay: grads and params must hold the same parameters")
    for i, (g, p) in enumerate(zip(g_list, p_list, strict=True)):
        check_array("add_weight_decay", f"grads[{i}]", g, tuple(p.shape), dtype_kind="f")
    # BEGIN GRADED a04.add_weight_decay
    if isinstance(grads, dict):
        return {k: grads[k] + weight_decay * params[k] for k in grads}
    return type(grads)(g + weight_decay * p for g, p in zip(grads, params, strict=True))
    # END GRADED


def l2_penalty(params: Any, weight_decay: float) -> float:
    """The L2 penalty (lambda / 2) sum_w ||w||^2 over a list, tuple or dict of arrays (to report the loss)."""
    check_positive("l2_penalty", "weight_decay", weight_decay, allow_zero=True)
    return 0.5 * weight_decay * sum(float((p * p).sum()) for p in _as_list(params, "params", "l2_penalty"))


def clip_grad_norm(grads: Any, max_norm: float) -> float:
    """Rescale gradients in place so that their global L2 norm is at most ``max_norm``.

    The global norm is ||g|| = sqrt(sum over every array of sum g^2) (lecture 003, gradient clipping).
    If it exceeds max_norm, every gradient is multiplied by max_norm / (||g|| + 1e-6), which keeps the
    direction and caps the step; otherwise nothing changes. Same as ``torch.nn.utils.clip_grad_norm_``.

    Inputs:
    - grads: a list, tuple or dict of float arrays, modified in place.
    - max_norm: the threshold, > 0.

    Returns the total norm before clipping (a float), useful to plot.
    """
    check_positive("clip_grad_norm", "max_norm", max_norm)
    g_list = _as_list(grads, "grads", "clip_grad_norm")
    for i, g in enumerate(g_list):
        check_array("clip_grad_norm", f"grads[{i}]", g, dtype_kind="f")
    # BEGIN GRADED a04.clip_grad_norm
    arrays = list(grads.values()) if isinstance(grads, dict) else list(grads)
    total_norm = sum(float((g * g).sum()) for g in arrays) ** 0.5  # one norm over every array
    scale = max_norm / (total_norm + 1e-6)
    if scale < 1:
        for g in arrays:
            g *= scale  # in place: the modules keep referring to these arrays
    return total_norm
    # END GRADED


class Optimizer:
    """Applies an update rule to every parameter of a module, with one config (state) per parameter.

    ``Optimizer(model, adam, learning_rate=1e-3)`` then, per minibatch::

        model.zero_grad(); loss, dscores = loss_fn(model(x), y); model.backward(dscores); opt.step()

    Inputs:
    - module: anything with ``parameters()`` yielding ``(name, param, grad)`` (a
      ``course.core.module.Module``).
    - rule: one of the update functions above (``sgd``, ``adam`` ...), passed as a function.
    - weight_decay: L2 lambda added to each gradient before the rule (``add_weight_decay``).
    - max_grad_norm: if given, the gradients are clipped to this global norm first (``clip_grad_norm``).
    - **hyper: the rule's hyper-parameters (``learning_rate``, ``momentum``, ``beta1`` ...), copied into
      every parameter's config.
    """

    def __init__(
        self,
        module: Any,
        rule: UpdateRule = sgd,
        *,
        weight_decay: float = 0.0,
        max_grad_norm: float | None = None,
        **hyper: Any,
    ) -> None:
        if not callable(rule):
            raise ValueError(f"Optimizer: rule must be an update function such as sgd or adam, got {rule!r}")
        check_positive("Optimizer", "weight_decay", weight_decay, allow_zero=True)
        if max_grad_norm is not None:
            check_positive("Optimizer", "max_grad_norm", max_grad_norm)
        self.module = module
        self.rule = rule
        self.weight_decay = weight_decay
        self.max_grad_norm = max_grad_norm
        self.configs: dict[str, Config] = {name: dict(hyper) for name, _, _ in module.parameters()}
        self.last_grad_norm: float | None = None

    def set_learning_rate(self, learning_rate: float) -> None:
        """Change the learning rate of every parameter (for schedules); the rule's state is kept."""
        check_positive("Optimizer.set_learning_rate", "learning_rate", learning_rate)
        for config in self.configs.values():
            config["learning_rate"] = learning_rate

    def zero_grad(self) -> None:
        """Zero the module's gradients (they accumulate otherwise)."""
        self.module.zero_grad()

    def step(self) -> None:
        """One update of every parameter, in place."""
        named = list(self.module.parameters())
        grads = [g for _, _, g in named]
        if self.max_grad_norm is not None:
            self.last_grad_norm = clip_grad_norm(grads, self.max_grad_norm)
        if self.weight_decay:
            grads = add_weight_decay(grads, [p for _, p, _ in named], self.weight_decay)
        for (name, p, _), g in zip(named, grads, strict=True):
            next_p, self.configs[name] = self.rule(p, g, self.configs[name])
            p[...] = next_p  # in place: the module keeps referring to the same array
