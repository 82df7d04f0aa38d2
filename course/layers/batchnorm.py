"""Batch normalisation for fully connected layers (lectures 001 "batch normalisation" and 004).

Training mode normalises each feature with the statistics of the current mini-batch,
    x_hat = (x - mu_B) / sqrt(var_B + eps),   out = gamma * x_hat + beta,
where var_B is the *biased* batch variance (divide by N, as in the original paper's algorithm). It also
keeps exponential running averages for evaluation mode, starting from zeros:
    running = momentum * running + (1 - momentum) * batch_statistic.
With momentum 0.9 the new batch gets weight 0.1 and the history 0.9; swapping the two weights (the bug
in the lecture's code) makes the "average" little more than the last batch. PyTorch's ``momentum``
argument is our ``1 - momentum``, and PyTorch stores the unbiased variance in its running average.

Evaluation mode uses the running statistics, so the output no longer depends on the rest of the batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course.core.backend import get_array_module
from course.core.module import Module
from course.core.validation import check_array, check_choice, check_positive


def _check_batchnorm_args(x: Any, gamma: Any, beta: Any, bn_param: dict) -> None:
    dims: dict[str, int] = {}
    check_array("batchnorm_forward", "x", x, ("N", "D"), dims=dims, dtype_kind="f")
    check_array("batchnorm_forward", "gamma", gamma, ("D",), dims=dims, dtype_kind="f")
    check_array("batchnorm_forward", "beta", beta, ("D",), dims=dims, dtype_kind="f")
    check_choice("batchnorm_forward", "bn_param['mode']", bn_param.get("mode"), ("train", "eval"))
    check_positive("batchnorm_forward", "bn_param['eps']", bn_param.get("eps", 1e-5))
    momentum = bn_param.get("momentum", 0.9)
    if not 0 <= momentum < 1:
        raise ValueError(f"batchnorm_forward: bn_param['momentum'] must be in [0, 1), got {momentum!r}")
    for name in ("running_mean", "running_var"):
        if name in bn_param:
            check_array("batchnorm_forward", f"bn_param[{name!r}]", bn_param[name], ("D",), dims=dims)


def batchnorm_forward(x: Any, gamma: Any, beta: Any, bn_param: dict) -> tuple[Any, tuple]:
    """Batch normalisation forward pass; updates the running averages in ``bn_param`` in training mode.

    Inputs:
    - x: (N, D) inputs.
    - gamma: (D,) scale.
    - beta: (D,) shift.
    - bn_param: dict with
      - mode: 'train' or 'eval' (required);
      - eps: added to the variance (default 1e-5);
      - momentum: weight of the old running average (default 0.9);
      - running_mean, running_var: (D,) arrays, created as zeros when missing and written back.

    Returns:
    - out: (N, D).
    - cache: (x_hat, gamma, inv_std, mode), what the backward pass reads.
    """
    _check_batchnorm_args(x, gamma, beta, bn_param)
    # BEGIN GRADED a04.batchnorm_forward
    xp = get_array_module(x)
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    d = x.shape[1]
    running_mean = bn_param.get("running_mean", xp.zeros(d, dtype=x.dtype))
    running_var = bn_param.get("running_var", xp.zeros(d, dtype=x.dtype))
    if mode == "train":
        mu = x.mean(axis=0)  # (D,)
        xc = x - mu  # (N, D)
        var = (xc * xc).mean(axis=0)  # (D,), biased: divides by N
        inv_std = 1 / xp.sqrt(var + eps)
        x_hat = xc * inv_std
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mu
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
    else:
        inv_std = 1 / xp.sqrt(running_var + eps)
        x_hat = (x - running_mean) * inv_std
    out = gamma * x_hat + beta  # (N, D)
    cache = (x_hat, gamma, inv_std, mode)
    return out, cache
    # END GRADED


def batchnorm_backward(dout: Any, cache: tuple) -> tuple[Any, Any, Any]:
    """Batch normalisation backward pass, in the compact closed form.

    In training mode mu and var depend on every x, which gives
        dx = inv_std / N * (N * dx_hat - sum_n dx_hat - x_hat * sum_n(dx_hat * x_hat))
    with dx_hat = dout * gamma.
    In evaluation mode the statistics are constants and dx = dout * gamma * inv_std.

    Inputs:
    - dout: (N, D) upstream gradient.
    - cache: from ``batchnorm_forward``.

    Returns:
    - dx: (N, D); dgamma: (D,); dbeta: (D,).
    """
    check_array("batchnorm_backward", "dout", dout, tuple(cache[0].shape), dtype_kind="f")
    # BEGIN GRADED a04.batchnorm_backward
    x_hat, gamma, inv_std, mode = cache
    n = dout.shape[0]
    dbeta = dout.sum(axis=0)  # (D,)
    dgamma = (dout * x_hat).sum(axis=0)  # (D,)
    dx_hat = dout * gamma  # (N, D)
    if mode == "train":
        dx = (inv_std / n) * (n * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0))
    else:
        dx = dx_hat * inv_std
    return dx, dgamma, dbeta
    # END GRADED


class BatchNorm(Module):
    """Batch normalisation over the features of (N, D) inputs: parameters ``gamma`` (ones), ``beta`` (zeros).

    The running statistics live in ``self.bn_param`` (they are not parameters: no gradient flows to them).
    ``self.training`` picks 'train' or 'eval' mode.
    """

    def __init__(
        self, num_features: int, *, eps: float = 1e-5, momentum: float = 0.9, dtype: Any = np.float32
    ) -> None:
        super().__init__()
        self.add_param("gamma", np.ones(num_features, dtype=dtype))
        self.add_param("beta", np.zeros(num_features, dtype=dtype))
        self.bn_param: dict[str, Any] = {
            "eps": eps,
            "momentum": momentum,
            "running_mean": np.zeros(num_features, dtype=dtype),
            "running_var": np.zeros(num_features, dtype=dtype),
        }

    def forward(self, x: Any) -> Any:
        self.bn_param["mode"] = "train" if self.training else "eval"
        out, self.cache = batchnorm_forward(x, self.params["gamma"], self.params["beta"], self.bn_param)
        return out

    def extra_state(self) -> dict[str, Any]:
        """The running averages, so a checkpoint restores evaluation-mode behaviour."""
        return {"running_mean": self.bn_param["running_mean"], "running_var": self.bn_param["running_var"]}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            shape = self.bn_param[name].shape
            if value.shape != shape:
                raise ValueError(f"load_state_dict: {name} has shape {shape}, checkpoint has {value.shape}")
            self.bn_param[name] = value

    def backward(self, dout: Any) -> Any:
        dx, dgamma, dbeta = batchnorm_backward(dout, self.cache)
        self.accumulate("gamma", dgamma)
        self.accumulate("beta", dbeta)
        return dx
