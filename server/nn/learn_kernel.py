"""The smallest training there is: recover a hidden 3x3 kernel by gradient descent.

Given a photo ``x`` and ``t = conv(x, hidden)``, start from a zero kernel ``k`` and descend the
mean squared error ``L(k) = mean((conv(x, k) - t)^2)``. Its gradient is itself a convolution
(`server.core.conv_backward`), and the loss is a quadratic bowl, so the kernel walks to the
hidden one.

A photo's neighbouring pixels are strongly correlated, so the bowl is long and narrow (its
curvature differs a thousandfold between directions) and plain descent crawls along it. The
descent here has momentum (Polyak's heavy ball) with the step size and momentum that are
optimal for this bowl, read off its curvature (the 9x9 matrix of the photo's patches): the
error then shrinks by a constant factor every step, in every direction.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..core import conv, conv_backward
from .optimizers import SGD

__all__ = ["KernelStep", "learn_kernel"]


@dataclass(frozen=True)
class KernelStep:
    """The kernel after ``step`` updates and the loss it had before the update."""

    step: int
    loss: float
    kernel: np.ndarray


def heavy_ball(x: np.ndarray, kernel_shape: tuple[int, ...]) -> tuple[float, float]:
    """Polyak's optimal ``(learning_rate, momentum)`` for the bowl of photo ``x``.

    The loss's curvature is ``2 P^T P / M`` (``P``: the M patches of ``x`` as rows); with its
    extreme eigenvalues ``L`` and ``mu``: ``lr = 4 / (sqrt L + sqrt mu)^2`` and
    ``momentum = ((sqrt L - sqrt mu) / (sqrt L + sqrt mu))^2``.
    """
    patches = sliding_window_view(x, kernel_shape).reshape(-1, int(np.prod(kernel_shape)))
    curvature = 2 * patches.T @ patches / len(patches)
    mu, big = np.linalg.eigvalsh(curvature)[[0, -1]]
    root_l, root_mu = float(np.sqrt(big)), float(np.sqrt(max(mu, 0.0)))
    return 4 / (root_l + root_mu) ** 2, ((root_l - root_mu) / (root_l + root_mu)) ** 2


def learn_kernel(x: np.ndarray, target: np.ndarray, *,
                 steps: int = 150) -> Iterator[KernelStep]:
    """Yield the kernel after every step of gradient descent from zeros towards ``target``.

    Parameters
    ----------
    x : ndarray, shape (H, W)
        A grey photo; it is standardized (zero mean, unit spread) first, which changes
        nothing about which kernel fits but makes the bowl rounder.
    target : ndarray, shape (kh, kw)
        The hidden kernel; only ``conv(x, target)`` is used by the descent.
    steps : int

    Notes
    -----
    Cost per step: two convolutions of the photo (forward and the kernel's gradient), about
    ``4 * H * W * kh * kw`` multiply-adds; once, the patches' 9x9 matrix.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> photo = rng.random((24, 24))
    >>> hidden = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], float)
    >>> last = list(learn_kernel(photo, hidden, steps=100))[-1]
    >>> bool(np.abs(last.kernel - hidden).max() < 1e-3)
    True
    """
    x = np.asarray(x, dtype=np.float64)
    x = (x - x.mean()) / (x.std() or 1.0)
    goal = conv(x, np.asarray(target, dtype=np.float64))
    kernel = np.zeros(np.shape(target), dtype=np.float64)
    optimizer = SGD(*heavy_ball(x, kernel.shape))
    for step in range(1, steps + 1):
        residual = conv(x, kernel) - goal
        loss = float(np.mean(residual * residual))
        _, grad, _ = conv_backward(x, kernel, 2 * residual / residual.size)
        optimizer.step([kernel], [grad])
        yield KernelStep(step, loss, kernel.copy())
