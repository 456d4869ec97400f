"""conv_backward / pool_backward: against naive loops, finite differences and PyTorch autograd."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import _source, ref_pads

from server.core import (
    OutputSizeError,
    PaddingError,
    ParameterError,
    ShapeError,
    conv,
    conv_backward,
    pool,
    pool_backward,
)

TORCH_PAD = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate",
             "circular": "circular"}


def assert_close(actual: np.ndarray, reference: np.ndarray) -> None:
    """DESIGN §2's tolerance: 1e-5 * max|reference| + 1e-6."""
    assert actual.shape == reference.shape
    tol = 1e-5 * float(np.abs(reference).max(initial=0)) + 1e-6
    np.testing.assert_allclose(actual, reference, rtol=0, atol=tol)


def per_axis(value: Any, nd: int) -> list[int]:
    return [value] * nd if isinstance(value, int) else [int(v) for v in value]


# ---------------------------------------------------------------- independent oracles


def naive_conv_grads(
    x: np.ndarray, w: np.ndarray, g: np.ndarray, *, stride: Any = 1, padding: Any = 0,
    padding_mode: str = "zeros", dilation: Any = 1, groups: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every output, channel and tap by hand: x (C, *S), w (F, C/G, *K), g (F, *O)."""
    nd = x.ndim - 1
    spatial, kernel = list(x.shape[1:]), list(w.shape[2:])
    s, d = per_axis(stride, nd), per_axis(dilation, nd)
    pads = ref_pads(padding, spatial, kernel, s, d)
    filters, cg = w.shape[:2]
    fg = filters // groups
    gx, gw = np.zeros(x.shape), np.zeros(w.shape)
    for f in range(filters):
        for o in itertools.product(*(range(n) for n in g.shape[1:])):
            go = g[(f, *o)]
            for c in range(cg):
                ch = (f // fg) * cg + c
                for k in itertools.product(*(range(n) for n in kernel)):
                    src = [_source(o[a] * s[a] + k[a] * d[a] - pads[a][0], spatial[a],
                                   padding_mode) for a in range(nd)]
                    if any(v is None for v in src):
                        continue
                    gx[(ch, *src)] += w[(f, c, *k)] * go
                    gw[(f, c, *k)] += x[(ch, *src)] * go
    return gx, gw, g.reshape(filters, -1).sum(axis=1)


def naive_pool_grad(
    x: np.ndarray, g: np.ndarray, mode: str, k: tuple[int, ...], s: tuple[int, ...],
    pads: tuple[tuple[int, int], ...], d: tuple[int, ...], count_include_pad: bool,
) -> np.ndarray:
    """PyTorch's rules by hand: max to the first maximum (row-major), avg by the divisor."""
    nd = x.ndim - 1
    spatial = x.shape[1:]
    gx = np.zeros(x.shape)
    for c in range(x.shape[0]):
        for pos in itertools.product(*(range(o) for o in g.shape[1:])):
            taps, in_padded = [], 0
            for tap in itertools.product(*(range(kk) for kk in k)):
                idx = tuple(pos[a] * s[a] - pads[a][0] + tap[a] * d[a] for a in range(nd))
                if all(0 <= idx[a] < spatial[a] for a in range(nd)):
                    taps.append(idx)
                if all(-pads[a][0] <= idx[a] < spatial[a] + pads[a][1] for a in range(nd)):
                    in_padded += 1
            go = g[(c, *pos)]
            if not taps:  # dilation and padding can leave a window no input element
                continue
            if mode == "max":
                best = taps[0]
                for idx in taps[1:]:
                    if x[(c, *idx)] > x[(c, *best)]:
                        best = idx
                gx[(c, *best)] += go
            else:
                div = in_padded if count_include_pad else len(taps)
                for idx in taps:
                    gx[(c, *idx)] += go / div
    return gx


def finite_difference(f: Any, x: np.ndarray, h: float) -> np.ndarray:
    """Central differences of the scalar ``f`` at every element of ``x`` (float64)."""
    grad = np.zeros(x.shape)
    for i in np.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        grad[i] = (f(up) - f(down)) / (2 * h)
    return grad


# ---------------------------------------------------------------- PyTorch references


def torch_conv_grads(
    x: np.ndarray, w: np.ndarray, g: np.ndarray, *, stride: Any, padding: Any,
    padding_mode: str, dilation: Any, groups: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Autograd of F.pad + convNd on a batch x (N, C, *S), g (N, F, *O)."""
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    nd = x.ndim - 2
    s, d = per_axis(stride, nd), per_axis(dilation, nd)
    pads = ref_pads(padding, list(x.shape[2:]), list(w.shape[2:]), s, d)
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    tw = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    tb = torch.zeros(w.shape[0], dtype=torch.float64, requires_grad=True)
    flat = [v for pair in reversed(pads) for v in pair]
    xp = functional.pad(tx, flat, mode=TORCH_PAD[padding_mode]) if any(flat) else tx
    conv_nd = getattr(functional, f"conv{nd}d")
    out = conv_nd(xp, tw, tb, stride=s, dilation=d, groups=groups)
    assert tuple(out.shape) == g.shape
    out.backward(torch.tensor(g, dtype=torch.float64))
    return tx.grad.numpy(), tw.grad.numpy(), tb.grad.numpy()


def torch_pool_grad(
    x: np.ndarray, g: np.ndarray, mode: str, k: Any, s: Any, p: Any, d: Any, ceil_mode: bool,
    count_include_pad: bool,
) -> np.ndarray | None:
    """Autograd of max_poolNd / avg_poolNd on a batch (None when PyTorch refuses the shape)."""
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    nd = x.ndim - 2
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    try:
        if mode == "max":
            out = getattr(functional, f"max_pool{nd}d")(tx, k, s, p, d, ceil_mode=ceil_mode)
        else:
            out = getattr(functional, f"avg_pool{nd}d")(
                tx, k, s, p, ceil_mode=ceil_mode, count_include_pad=count_include_pad
            )
    except RuntimeError:  # avg_pool3d refuses inputs smaller than the kernel before padding
        return None
    assert tuple(out.shape) == g.shape
    out.backward(torch.tensor(g, dtype=torch.float64))
    return tx.grad.numpy()


# ---------------------------------------------------------------- convolution

CONV_CASES = [
    # spatial, kernel, stride, padding, dilation, groups, (C, F)
    ((9,), (3,), 1, 0, 1, 1, (2, 3)),
    ((11,), (4,), 2, "same", 1, 1, (2, 2)),
    ((10,), (3,), 3, [[2, 1]], 2, 2, (4, 2)),
    ((7,), (2,), 1, "full", 3, 1, (1, 2)),
    ((6, 7), (3, 3), 1, 1, 1, 1, (3, 4)),
    ((8, 9), (3, 2), 2, "same", 1, 1, (2, 3)),
    ((8, 9), (3, 3), (2, 1), [1, 2], (1, 2), 2, (4, 4)),
    ((7, 8), (2, 3), (3, 2), [[0, 2], [1, 0]], (2, 1), 1, (2, 2)),
    ((5, 6), (3, 3), 1, "full", 1, 3, (3, 6)),
    ((6, 6), (1, 1), 2, "valid", 1, 1, (3, 2)),
    ((8, 8), (5, 5), 1, "same", 1, 1, (1, 1)),
    ((5, 6, 7), (2, 3, 2), 1, 1, 1, 1, (2, 2)),
    ((6, 7, 5), (3, 2, 3), (2, 1, 2), "same", (1, 2, 1), 2, (2, 4)),
    ((5, 5, 6), (2, 2, 2), 2, [[1, 0], 1, [0, 2]], 1, 1, (1, 3)),
    ((4, 5, 5), (2, 3, 3), 1, "full", (2, 1, 1), 1, (2, 1)),
]


def _case_id(case: tuple[Any, ...]) -> str:
    spatial, kernel, s, p, d, groups, (c, f) = case
    return f"{len(spatial)}d-S{spatial}-K{kernel}-s{s}-p{p}-d{d}-g{groups}-C{c}F{f}"


def _operands(case: tuple[Any, ...], batch: int, seed: int) -> tuple[np.ndarray, ...]:
    spatial, kernel, s, p, d, groups, (c, f) = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, c, *spatial))
    w = rng.standard_normal((f, c // groups, *kernel))
    out = conv(x[0], w, stride=s, padding=p, dilation=d, groups=groups)
    g = rng.standard_normal((batch, *out.shape))
    return x, w, g


@pytest.mark.parametrize("case", CONV_CASES, ids=_case_id)
def test_conv_backward_matches_naive_oracle_and_torch(case: tuple[Any, ...]) -> None:
    _, _, s, p, d, groups, _ = case
    x, w, g = _operands(case, 2, seed=len(_case_id(case)))
    options = {"stride": s, "padding": p, "dilation": d, "groups": groups}
    got = conv_backward(x, w, g, batch=True, **options)
    naive = [naive_conv_grads(x[i], w, g[i], **options) for i in range(2)]
    assert_close(got[0], np.stack([n[0] for n in naive]))
    assert_close(got[1], naive[0][1] + naive[1][1])
    assert_close(got[2], naive[0][2] + naive[1][2])
    reference = torch_conv_grads(x, w, g, padding_mode="zeros", **options)
    for ours, theirs in zip(got, reference, strict=True):
        assert_close(ours, theirs)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize(
    "case",
    [c for c in CONV_CASES if c[3] != "full" and c[0] != (5, 5, 6)],  # padding < side
    ids=_case_id,
)
def test_conv_backward_padding_modes_match_torch(case: tuple[Any, ...], mode: str) -> None:
    _, _, s, p, d, groups, _ = case
    x, w, g = _operands(case, 2, seed=7)
    options = {"stride": s, "padding": p, "dilation": d, "groups": groups}
    got = conv_backward(x, w, g, batch=True, padding_mode=mode, **options)
    reference = torch_conv_grads(x, w, g, padding_mode=mode, **options)
    for ours, theirs in zip(got, reference, strict=True):
        assert_close(ours, theirs)
    naive = naive_conv_grads(x[0], w, g[0], padding_mode=mode, **options)
    assert_close(conv_backward(x[0], w, g[0], padding_mode=mode, **options)[0], naive[0])


@pytest.mark.parametrize(
    ("spatial", "kernel", "options"),
    [
        ((7,), (3,), {"padding": "same", "padding_mode": "reflect"}),
        ((6, 5), (3, 2), {"stride": 2, "padding": [[1, 2], [0, 1]], "padding_mode": "circular"}),
        ((4, 4, 3), (2, 2, 2), {"dilation": 2, "padding": 1, "padding_mode": "replicate"}),
        ((5, 6), (3, 3), {"padding": "full"}),
    ],
)
def test_conv_backward_matches_finite_differences(
    spatial: tuple[int, ...], kernel: tuple[int, ...], options: dict[str, Any]
) -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, *spatial))
    w = rng.standard_normal((3, 2, *kernel))
    b = rng.standard_normal(3)
    g = rng.standard_normal(conv(x, w, **options).shape)

    def loss(xx: np.ndarray, ww: np.ndarray, bb: np.ndarray) -> float:
        return float(np.sum(conv(xx, ww, bias=bb, **options) * g))

    gx, gw, gb = conv_backward(x, w, g, **options)
    assert_close(gx, finite_difference(lambda v: loss(v, w, b), x, 1e-4))
    assert_close(gw, finite_difference(lambda v: loss(x, v, b), w, 1e-4))
    assert_close(gb, finite_difference(lambda v: loss(x, w, v), b, 1e-4))


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "g_shape"),
    [
        ((6, 7), (3, 3), (4, 5)),  # shorthand: one channel, one filter, no filter axis
        ((9,), (2,), (8,)),
        ((4, 5, 6), (2, 2, 2), (3, 4, 5)),
        ((6, 7), (2, 1, 3, 3), (2, 4, 5)),  # a grey image through a filter bank
    ],
)
def test_conv_backward_shorthand_shapes_match_full_form(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], g_shape: tuple[int, ...]
) -> None:
    rng = np.random.default_rng(1)
    x, w, g = (rng.standard_normal(s) for s in (x_shape, w_shape, g_shape))
    gx, gw, gb = conv_backward(x, w, g)
    assert gx.shape == x.shape and gw.shape == w.shape
    filters = 1 if len(w_shape) == len(x_shape) else w_shape[0]
    assert gb.shape == (filters,)
    nd = len(x_shape)  # no channel axis in any of these inputs
    full = naive_conv_grads(
        x.reshape(1, *x_shape), w.reshape(filters, 1, *w_shape[-nd:]),
        g.reshape(filters, *g_shape[-nd:]),
    )
    assert_close(gx, full[0].reshape(x.shape))
    assert_close(gw, full[1].reshape(w.shape))
    assert_close(gb, full[2])


def test_conv_backward_batch_is_the_sum_of_samples() -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 2, 7, 6))
    w = rng.standard_normal((4, 1, 3, 3))
    g = rng.standard_normal((4, 4, 4, 3))
    options = {"stride": 2, "padding": "same", "groups": 2}
    gx, gw, gb = conv_backward(x, w, g, batch=True, **options)
    singles = [conv_backward(x[i], w, g[i], **options) for i in range(4)]
    assert_close(gx, np.stack([s[0] for s in singles]))
    assert_close(gw, sum(s[1] for s in singles))
    assert_close(gb, sum(s[2] for s in singles))


def test_conv_backward_batch_shorthand() -> None:
    # batch of grey digits (N, H, W) through a (kh, kw) kernel: grad_out (N, *O)
    rng = np.random.default_rng(6)
    x, w, g = rng.standard_normal((3, 8, 8)), rng.standard_normal((3, 3)), rng.standard_normal(
        (3, 8, 8))
    gx, gw, gb = conv_backward(x, w, g, padding="same", batch=True)
    assert gx.shape == (3, 8, 8) and gw.shape == (3, 3) and gb.shape == (1,)
    singles = [conv_backward(x[i], w, g[i], padding="same") for i in range(3)]
    assert_close(gx, np.stack([s[0] for s in singles]))
    assert_close(gw, sum(s[1] for s in singles))


def test_conv_backward_digit_layer_matches_torch() -> None:
    # the training shapes: 32 digits 8x8, Conv(1->8, 3x3 same), then Conv(8->16, 3x3 same) on 4x4
    rng = np.random.default_rng(8)
    for c, f, n in ((1, 8, 8), (8, 16, 4)):
        x = rng.standard_normal((32, c, n, n))
        w = rng.standard_normal((f, c, 3, 3))
        g = rng.standard_normal((32, f, n, n))
        got = conv_backward(x, w, g, padding="same", batch=True)
        reference = torch_conv_grads(x, w, g, stride=1, padding="same", padding_mode="zeros",
                                     dilation=1, groups=1)
        for ours, theirs in zip(got, reference, strict=True):
            assert_close(ours, theirs)


def test_conv_backward_float32_stays_float32_and_accurate() -> None:
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 3, 9, 9))
    w = rng.standard_normal((4, 3, 3, 3))
    g = rng.standard_normal((2, 4, 5, 5))
    got32 = conv_backward(x.astype(np.float32), w.astype(np.float32), g.astype(np.float32),
                          stride=2, padding=1, batch=True)
    got64 = conv_backward(x, w, g, stride=2, padding=1, batch=True)
    for a, b in zip(got32, got64, strict=True):
        assert a.dtype == np.float32
        assert_close(a.astype(np.float64), b)
    mixed = conv_backward(x.astype(np.float32), w, g, stride=2, padding=1, batch=True)
    assert all(a.dtype == np.float64 for a in mixed)


def test_conv_backward_small_tap_chunks_agree() -> None:
    # a tiny budget splits the taps into chunks of one; the result must not change
    from server.core._backward import conv_grads

    rng = np.random.default_rng(10)
    x = rng.standard_normal((2, 4, 7, 7))
    w = rng.standard_normal((6, 2, 3, 3))
    g = rng.standard_normal((2, 6, 4, 4))
    options: dict[str, Any] = {
        "stride": (2, 2), "dilation": (1, 1), "pads": ((1, 1), (1, 1)), "padding_mode": "zeros",
        "groups": 2,
    }
    whole = conv_grads(x, w, g, **options)
    chunked = conv_grads(x, w, g, cols_bytes=1, **options)
    for a, b in zip(whole, chunked, strict=True):
        assert_close(a, b)


@settings(max_examples=40, deadline=None)
@given(nd=st.integers(1, 3), data=st.data())
def test_conv_backward_property_adjoint_and_torch(nd: int, data: st.DataObject) -> None:
    """<conv(x, w), g> = <x, grad_x> = <w, grad_w> (conv is linear in each), and = torch."""
    ints = lambda lo, hi: st.lists(st.integers(lo, hi), min_size=nd, max_size=nd)  # noqa: E731
    spatial = data.draw(ints(2, 7))
    kernel = data.draw(ints(1, 3))
    stride, dilation = data.draw(ints(1, 3)), data.draw(ints(1, 2))
    groups = data.draw(st.integers(1, 2))
    c, f = groups * data.draw(st.integers(1, 2)), groups * data.draw(st.integers(1, 2))
    mode = data.draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
    padding = data.draw(st.one_of(
        st.sampled_from(["valid", "same", "full"]),
        st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2)), min_size=nd, max_size=nd),
    ))
    if not isinstance(padding, str):
        padding = [list(pair) for pair in padding]
    n = data.draw(st.integers(1, 3))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = rng.standard_normal((n, c, *spatial))
    w = rng.standard_normal((f, c // groups, *kernel))
    options = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups,
               "padding_mode": mode}
    try:
        out = np.stack([conv(xi, w, **options) for xi in x])
    except (OutputSizeError, PaddingError):
        with pytest.raises((OutputSizeError, PaddingError)):
            conv_backward(x, w, np.zeros(1), batch=True, **options)
        return
    g = rng.standard_normal(out.shape)
    gx, gw, gb = conv_backward(x, w, g, batch=True, **options)
    total = float(np.sum(out * g))
    scale = float(np.abs(out).sum() * np.abs(g).max()) + 1.0
    assert abs(float(np.sum(gx * x)) - total) <= 1e-9 * scale
    assert abs(float(np.sum(gw * w)) - total) <= 1e-9 * scale
    assert_close(gb, g.sum(axis=(0, *range(2, g.ndim))))
    reference = torch_conv_grads(x, w, g, stride=stride, padding=padding, padding_mode=mode,
                                 dilation=dilation, groups=groups)
    for ours, theirs in zip((gx, gw, gb), reference, strict=True):
        assert_close(ours, theirs)


# ---------------------------------------------------------------- pooling

POOL_CASES = [
    # mode, spatial, kernel, stride, padding, dilation, ceil_mode, count_include_pad
    ("max", (7,), (2,), (2,), (0,), (1,), False, True),
    ("max", (7,), (3,), (2,), (1,), (2,), True, True),
    ("max", (8,), (3,), (1,), (1,), (1,), False, True),
    ("avg", (8,), (3,), (1,), (1,), (1,), False, False),
    ("avg", (5,), (2,), (2,), (1,), (1,), True, True),
    ("avg", (7,), (3,), (2,), (1,), (1,), True, False),
    ("max", (5, 5), (2, 2), (2, 2), (0, 0), (1, 1), True, True),
    ("max", (8, 8), (2, 2), (2, 2), (0, 0), (1, 1), False, True),
    ("max", (6, 7), (3, 3), (2, 2), (1, 1), (1, 1), False, True),
    ("max", (6, 7), (3, 2), (2, 1), (1, 0), (2, 1), True, True),
    ("max", (9, 9), (3, 3), (3, 3), (1, 1), (2, 2), True, True),
    ("max", (6, 6), (3, 3), (1, 1), (1, 1), (1, 1), False, True),
    ("avg", (6, 7), (3, 3), (2, 2), (1, 1), (1, 1), False, True),
    ("avg", (6, 7), (3, 3), (2, 2), (1, 1), (1, 1), True, False),
    ("avg", (5, 6), (4, 2), (3, 2), (2, 1), (1, 1), True, True),
    ("avg", (5, 6), (4, 2), (3, 2), (2, 1), (1, 1), True, False),
    ("avg", (4, 4), (1, 1), (1, 1), (0, 0), (1, 1), False, True),
    ("max", (4, 5, 6), (2, 2, 3), (2, 1, 2), (1, 0, 1), (1, 1, 1), True, True),
    ("max", (5, 5, 5), (2, 2, 2), (2, 2, 2), (0, 0, 0), (2, 1, 2), False, True),
    ("avg", (4, 5, 6), (2, 3, 3), (2, 2, 2), (1, 1, 0), (1, 1, 1), True, False),
    ("avg", (4, 5, 6), (2, 3, 3), (1, 2, 3), (1, 1, 1), (1, 1, 1), False, True),
    # windows that tile the input (a path of their own), with a remainder on some axes
    ("max", (4, 7, 5), (2, 3, 1), (2, 3, 1), (0, 0, 0), (1, 1, 1), False, True),
    ("avg", (6, 6, 5), (3, 2, 2), (3, 2, 2), (0, 0, 0), (1, 1, 1), False, True),
    ("max", (9, 8), (3, 4), (3, 4), (0, 0), (1, 1), False, True),
]


def _pool_id(case: tuple[Any, ...]) -> str:
    mode, spatial, k, s, p, d, ceil_mode, cip = case
    return f"{mode}-{len(spatial)}d-S{spatial}-k{k}-s{s}-p{p}-d{d}-ceil{ceil_mode}-cip{cip}"


@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
@pytest.mark.parametrize("case", POOL_CASES, ids=_pool_id)
def test_pool_backward_matches_naive_oracle_and_torch(case: tuple[Any, ...], ties: bool) -> None:
    mode, spatial, k, s, p, d, ceil_mode, cip = case
    rng = np.random.default_rng(len(_pool_id(case)))
    shape = (2, 3, *spatial)
    # ties: small integers, so most windows hold their maximum more than once
    x = rng.integers(0, 3, shape).astype(float) if ties else rng.standard_normal(shape)
    options = {"mode": mode, "kernel_size": k, "stride": s, "padding": list(p), "dilation": d,
               "ceil_mode": ceil_mode, "count_include_pad": cip}
    out = np.stack([pool(xi, **options) for xi in x])
    g = rng.standard_normal(out.shape)
    got = pool_backward(x, g, batch=True, **options)
    pads = tuple((q, q) for q in p)
    naive = np.stack([naive_pool_grad(x[i], g[i], mode, k, s, pads, d, cip) for i in range(2)])
    assert_close(got, naive)
    reference = torch_pool_grad(x, g, mode, k, s, p, d, ceil_mode, cip)
    if reference is not None:
        assert_close(got, reference)


@pytest.mark.parametrize("kernel", [(2,), (2, 2), (3, 1), (2, 3, 2)])
def test_pool_backward_tiling_windows_agree_on_both_paths(
    kernel: tuple[int, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    # small inputs whose windows tile them go through cached gather indices, large ones through
    # the phase planes: the same ties must go to the same taps
    from server.core import _pool_backward

    shape = (3, *(3 * k + 1 for k in kernel))
    x = np.random.default_rng(13).integers(0, 2, shape).astype(float)
    g = np.random.default_rng(14).standard_normal(pool(x, mode="max", kernel_size=kernel).shape)
    small = pool_backward(x, g, mode="max", kernel_size=kernel)
    monkeypatch.setattr(_pool_backward, "GATHER_MAX", 0)
    large = pool_backward(x, g, mode="max", kernel_size=kernel)
    np.testing.assert_array_equal(small, large)
    pads = tuple((0, 0) for _ in kernel)
    assert_close(small, naive_pool_grad(x, g, "max", kernel, kernel, pads, (1,) * len(kernel),
                                        True))


def test_pool_backward_max_sends_ties_to_the_first_maximum() -> None:
    x = np.array([[5.0, 1.0, 5.0, 5.0], [5.0, 5.0, 0.0, 5.0]])
    got = pool_backward(x, np.array([[1.0, 2.0]]), mode="max", kernel_size=[2, 2])
    np.testing.assert_array_equal(got, [[1.0, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, 0.0]])


def test_pool_backward_max_overlapping_windows_accumulate() -> None:
    x = np.array([[0.0, 9.0, 0.0, 0.0, 0.0]])
    got = pool_backward(x, np.array([[1.0, 2.0, 4.0]]), mode="max", kernel_size=3, stride=1)
    # the 9 wins the first two windows; the third, [0, 0, 0], goes to its first tap
    np.testing.assert_array_equal(got, [[0.0, 3.0, 4.0, 0.0, 0.0]])


@pytest.mark.parametrize("padding", [0, 1])
def test_pool_backward_max_all_minus_inf_window_matches_torch(padding: int) -> None:
    # no value beats -inf: PyTorch keeps the window's first tap inside the input
    x = np.full((1, 2, 4, 4), -np.inf)
    x[0, 0, 3, 3] = 1.0
    g = np.arange(1.0, 1.0 + (2 * (2 + padding) ** 2)).reshape(1, 2, 2 + padding, 2 + padding)
    got = pool_backward(x, g, mode="max", kernel_size=2, padding=padding, batch=True)
    reference = torch_pool_grad(x, g, "max", 2, 2, padding, 1, False, True)
    assert reference is not None
    np.testing.assert_array_equal(got, reference)


def test_pool_backward_window_without_input_passes_nothing() -> None:
    # taps at -1 and 1 of a one-element axis: the output is -inf and reads no input element
    # (PyTorch writes that gradient past the plane, into the next channel's first element)
    x = np.array([[3.0], [2.0]])
    got = pool_backward(x, np.ones((2, 1)), mode="max", kernel_size=2, stride=1, padding=1,
                        dilation=2)
    np.testing.assert_array_equal(got, np.zeros((2, 1)))


def test_pool_backward_max_nan_matches_torch() -> None:
    x = np.array([[[1.0, np.nan, 3.0, np.nan, np.nan, 0.0]]])
    g = np.array([[[1.0, 2.0, 4.0]]])
    got = pool_backward(x, g, mode="max", kernel_size=2, batch=True)
    reference = torch_pool_grad(x, g, "max", 2, 2, 0, 1, False, True)
    assert reference is not None
    np.testing.assert_array_equal(got, reference)


@pytest.mark.parametrize(
    "options",
    [
        {"mode": "max", "kernel_size": [3, 2], "stride": [2, 1], "padding": [[1, 0], [0, 1]]},
        {"mode": "avg", "kernel_size": [2, 3], "padding": "same", "count_include_pad": False},
        {"mode": "avg", "kernel_size": [3, 3], "stride": 2, "padding": 1, "ceil_mode": True},
        {"mode": "max", "kernel_size": [2, 2, 2], "dilation": [1, 2, 1], "ceil_mode": True},
    ],
)
def test_pool_backward_matches_finite_differences(options: dict[str, Any]) -> None:
    nd = len(options["kernel_size"])
    shape = (2, 5, 6, 4)[: nd + 1]
    rng = np.random.default_rng(11)
    # distinct values at least 0.1 apart: a step of 1e-6 never changes a window's maximum
    x = rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1
    g = rng.standard_normal(pool(x, **options).shape)
    got = pool_backward(x, g, **options)
    assert_close(got, finite_difference(lambda v: float(np.sum(pool(v, **options) * g)), x, 1e-6))


def test_pool_backward_shorthand_and_float32() -> None:
    x = np.arange(36.0).reshape(6, 6)
    g = np.ones((3, 3))
    got = pool_backward(x, g, mode="max", kernel_size=[2, 2])
    assert got.shape == (6, 6) and got.dtype == np.float64
    np.testing.assert_array_equal(got[1::2, 1::2], np.ones((3, 3)))
    assert got.sum() == 9
    got32 = pool_backward(x.astype(np.float32), g.astype(np.float32), mode="avg",
                          kernel_size=[2, 2])
    assert got32.dtype == np.float32
    np.testing.assert_allclose(got32, np.full((6, 6), 0.25))


def test_pool_backward_batch_is_per_sample() -> None:
    rng = np.random.default_rng(12)
    x = rng.standard_normal((5, 3, 8, 8))
    g = rng.standard_normal((5, 3, 4, 4))
    got = pool_backward(x, g, mode="max", kernel_size=2, batch=True)
    singles = np.stack([pool_backward(x[i], g[i], mode="max", kernel_size=2) for i in range(5)])
    np.testing.assert_array_equal(got, singles)
    # shorthand batch: (N, *S) with a per-axis kernel
    got = pool_backward(x[:, 0], g[:, 0], mode="avg", kernel_size=[2, 2], batch=True)
    assert got.shape == (5, 8, 8)
    np.testing.assert_allclose(got, np.repeat(np.repeat(g[:, 0], 2, 1), 2, 2) / 4)


@settings(max_examples=60, deadline=None)
@given(
    nd=st.integers(1, 3),
    data=st.data(),
    mode=st.sampled_from(["max", "avg"]),
    ceil_mode=st.booleans(),
    cip=st.booleans(),
)
def test_pool_backward_property_matches_naive_oracle(
    nd: int, data: st.DataObject, mode: str, ceil_mode: bool, cip: bool
) -> None:
    ints = lambda lo, hi: st.lists(st.integers(lo, hi), min_size=nd, max_size=nd)  # noqa: E731
    spatial = data.draw(ints(1, 6))
    k, s = tuple(data.draw(ints(1, 3))), tuple(data.draw(ints(1, 3)))
    d = tuple(data.draw(ints(1, 2))) if mode == "max" else (1,) * nd
    pads = tuple((data.draw(st.integers(0, kk // 2)), data.draw(st.integers(0, kk // 2)))
                 for kk in k)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = rng.integers(0, 4, (2, *spatial)).astype(float)  # ties are common
    options = {"mode": mode, "kernel_size": k, "stride": s, "padding": [list(p) for p in pads],
               "dilation": d, "ceil_mode": ceil_mode, "count_include_pad": cip}
    try:
        out = pool(x, **options)
    except OutputSizeError:
        with pytest.raises(OutputSizeError):
            pool_backward(x, np.zeros(1), **options)
        return
    g = rng.standard_normal(out.shape)
    got = pool_backward(x, g, **options)
    assert_close(got, naive_pool_grad(x, g, mode, k, s, pads, d, cip))
    # pooling is positively homogeneous (max) or linear (avg): <grad_x, x> = <pool(x), g>
    # (a window of padding alone is -inf and passes no gradient)
    seen = np.isfinite(out)
    assert math.isclose(float(np.sum(got * x)), float(np.sum(out[seen] * g[seen])),
                        rel_tol=1e-9, abs_tol=1e-9)


# ---------------------------------------------------------------- bad inputs


def test_conv_backward_grad_out_wrong_shape_names_it_and_the_expected_shape() -> None:
    with pytest.raises(ShapeError) as info:
        conv_backward(np.zeros((1, 8, 8)), np.zeros((4, 1, 3, 3)), np.zeros((4, 5, 5)))
    assert info.value.param == "grad_out"
    assert "(4, 6, 6)" in str(info.value) and "(4, 5, 5)" in str(info.value)


def test_conv_backward_batched_grad_out_wrong_shape() -> None:
    with pytest.raises(ShapeError) as info:
        conv_backward(np.zeros((3, 1, 8, 8)), np.zeros((4, 1, 3, 3)), np.zeros((2, 4, 8, 8)),
                      padding="same", batch=True)
    assert info.value.param == "grad_out" and "(3, 4, 8, 8)" in str(info.value)


def test_pool_backward_grad_out_wrong_shape_names_it_and_the_expected_shape() -> None:
    with pytest.raises(ShapeError) as info:
        pool_backward(np.zeros((2, 6, 6)), np.zeros((2, 2, 2)), mode="max", kernel_size=2)
    assert info.value.param == "grad_out"
    assert "(2, 3, 3)" in str(info.value) and "(2, 2, 2)" in str(info.value)


@pytest.mark.parametrize("fn", ["conv", "pool"])
def test_backward_grad_out_must_be_numbers(fn: str) -> None:
    with pytest.raises(ParameterError) as info:
        if fn == "conv":
            conv_backward(np.zeros((4, 4)), np.zeros((2, 2)), np.full((3, 3), "a"))
        else:
            pool_backward(np.zeros((1, 4, 4)), np.full((1, 2, 2), "a"), mode="max",
                          kernel_size=2)
    assert info.value.param == "grad_out"


@pytest.mark.parametrize("fn", ["conv", "pool"])
def test_backward_batch_needs_a_batch_axis(fn: str) -> None:
    with pytest.raises(ShapeError) as info:
        if fn == "conv":
            conv_backward(np.zeros((0, 1, 4, 4)), np.zeros((1, 1, 2, 2)), np.zeros((0, 1, 3, 3)),
                          batch=True)
        else:
            pool_backward(np.zeros(0), np.zeros(0), mode="max", kernel_size=2, batch=True)
    assert info.value.param == "input"


def test_backward_batch_must_be_a_boolean() -> None:
    with pytest.raises(ParameterError) as info:
        conv_backward(np.zeros((4, 4)), np.zeros((2, 2)), np.zeros((3, 3)), batch="yes")
    assert info.value.param == "batch"


def test_conv_backward_validates_like_conv() -> None:
    x, w, g = np.zeros((2, 6, 6)), np.zeros((2, 2, 3, 3)), np.zeros((2, 4, 4))
    with pytest.raises(ParameterError) as info:
        conv_backward(x, w, g, stride=0)
    assert info.value.param == "stride" and "got 0" in str(info.value)
    with pytest.raises(PaddingError):
        conv_backward(x, w, g, padding=6, padding_mode="reflect")
    with pytest.raises(ShapeError) as info:
        conv_backward(x, np.zeros((2, 3, 3, 3)), g)
    assert info.value.param == "kernel"
    with pytest.raises(OutputSizeError):
        conv_backward(np.zeros((2, 2, 2)), w, g)
    with pytest.raises(ParameterError) as info:
        conv_backward(x, w, g, padding_mode="mirror")
    assert info.value.param == "padding_mode"


def test_pool_backward_validates_like_pool() -> None:
    x, g = np.zeros((1, 6, 6)), np.zeros((1, 3, 3))
    with pytest.raises(ParameterError) as info:
        pool_backward(x, g, mode="median", kernel_size=2)
    assert info.value.param == "mode"
    with pytest.raises(ParameterError) as info:
        pool_backward(x, g, mode="avg", kernel_size=2, dilation=2)
    assert info.value.param == "dilation"
    with pytest.raises(PaddingError):
        pool_backward(x, g, mode="max", kernel_size=2, padding=2)
