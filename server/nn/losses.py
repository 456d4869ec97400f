"""Cross-entropy, the loss of classifiers, with its gradient.

The model ends in probabilities (a softmax), as Keras's classifiers do; the loss is Keras's
``sparse_categorical_crossentropy`` on probabilities: ``-log p[label]`` averaged over the batch,
with ``p`` clipped to ``[1e-7, 1 - 1e-7]`` as Keras clips it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["EPSILON", "cross_entropy"]

EPSILON = 1e-7  # Keras's backend epsilon


def cross_entropy(probs: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """The mean loss of a batch and ``dL/d probs``.

    Parameters
    ----------
    probs : ndarray, shape (N, K)
        Each row sums to 1.
    labels : ndarray of int, shape (N,)
        The true class of each row.

    Returns
    -------
    loss : float
    grad : ndarray, shape (N, K)
        ``-1 / (N * p[label])`` at the label, 0 elsewhere (0 as well where the clip holds ``p``).
        Through a softmax this becomes the familiar ``(p - onehot) / N``.

    Examples
    --------
    >>> loss, grad = cross_entropy(np.array([[0.25, 0.75]]), np.array([1]))
    >>> round(loss, 4), grad.round(4).tolist()
    (0.2877, [[0.0, -1.3333]])
    """
    n = len(labels)
    rows = np.arange(n)
    picked = probs[rows, labels]
    clipped = np.minimum(np.maximum(picked, EPSILON), 1 - EPSILON)  # np.clip, minus its wrapper
    loss = float(-np.log(clipped).mean())
    grad = np.zeros_like(probs)
    inside = (picked > EPSILON) & (picked < 1 - EPSILON)
    grad[rows, labels] = np.where(inside, -1.0 / (n * clipped), 0.0)
    return loss, grad
