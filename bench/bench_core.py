"""Time Svertka's core convolution and pooling against PyTorch's CPU functions and SciPy.

Run as ``env -u OPENBLAS_CORETYPE python bench/bench_core.py`` (``--quick`` for a tiny smoke run).
Every case runs all its implementations in the same process, interleaved (one call each per
round), and reports the median; ratios are ours / PyTorch (below 1 is faster). PyTorch runs on
2 threads. "extra MB" is the peak memory our call allocates beyond its inputs (tracemalloc, one
separate run), "out MB" the size of the result. Agreement is max|ours - torch| / max|torch|.

``--single-thread`` measures CPU time (``time.process_time``) with PyTorch and NumPy's BLAS both
on one thread: the work each side does, which a shared, busy machine disturbs far less than the
wall time of two threads (the default, which is what the targets are about).

``--isolated`` (the protocol README reports first) times each library in its own process: for
every case and round, one subprocess for our side and one for PyTorch's (the order alternating
between rounds), each importing only its own library, warming up, then timing ``--reps`` calls;
the per-process medians are reduced to their median over the rounds. So neither side's idle,
spinning thread pool (OpenBLAS's, GNU OpenMP's) nor its allocator state touches the other's
calls. With ``--single-thread`` too, each worker measures CPU time on one thread.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SINGLE = "--single-thread" in sys.argv
if SINGLE:  # before NumPy loads OpenBLAS
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
if "--quiet-threads" in sys.argv:
    # Two thread pools share this process: OpenBLAS's (NumPy) and GNU OpenMP's (PyTorch). By
    # default each keeps its idle workers spinning after a call (OpenBLAS for up to ~0.1 s), and
    # on 2 cores that steals CPU from whichever side runs next in the interleaved rounds (mostly
    # PyTorch, after our BLAS calls). This makes idle workers of both sleep at once instead,
    # which in turn costs OpenBLAS a wake-up per call (it makes more, smaller calls).
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# an --isolated worker imports only its own side's library (see `worker_main`)
WORKER = sys.argv[sys.argv.index("--worker") + 1] if "--worker" in sys.argv else None

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

if WORKER in (None, "ours"):
    from server.core import conv, conv_method
    from server.core.methods import scratch as _scratch

    try:
        from server.core.pooling import pool
    except ImportError:  # pooling is built alongside; the conv rows do not need it
        pool = None

torch: Any = None
if WORKER in (None, "torch"):
    try:
        import torch
        import torch.nn.functional as tfn

        torch.set_num_threads(1 if SINGLE else 2)
    except ImportError:
        torch = None

scipy: Any = None
if WORKER is None:
    try:
        import scipy.ndimage
        import scipy.signal
    except ImportError:
        scipy = None


@dataclass(frozen=True)
class ConvCase:
    name: str
    x: tuple[int, ...]
    w: tuple[int, ...]
    stride: int = 1
    padding: int = 0


CASES = [
    ConvCase("3x512x512 w1x3x3x3 p1", (3, 512, 512), (1, 3, 3, 3), padding=1),
    ConvCase("3x512x512 w8x3x3x3", (3, 512, 512), (8, 3, 3, 3)),
    ConvCase("3x1024x1024 w16x3x5x5 p2", (3, 1024, 1024), (16, 3, 5, 5), padding=2),
    ConvCase("1x512x512 w1x1x31x31 p15", (1, 512, 512), (1, 1, 31, 31), padding=15),
    ConvCase("3x2048x2048 w4x3x3x3 s2 p1", (3, 2048, 2048), (4, 3, 3, 3), stride=2, padding=1),
    ConvCase("64x128x128 w64x64x3x3", (64, 128, 128), (64, 64, 3, 3)),
]
QUICK_CASES = [
    ConvCase("3x64x64 w1x3x3x3 p1", (3, 64, 64), (1, 3, 3, 3), padding=1),
    ConvCase("3x64x64 w8x3x3x3", (3, 64, 64), (8, 3, 3, 3)),
    ConvCase("1x64x64 w1x1x15x15 p7", (1, 64, 64), (1, 1, 15, 15), padding=7),
    ConvCase("3x96x96 w4x3x3x3 s2 p1", (3, 96, 96), (4, 3, 3, 3), stride=2, padding=1),
    ConvCase("16x32x32 w16x16x3x3", (16, 32, 32), (16, 16, 3, 3)),
]


clock = time.process_time if SINGLE else time.perf_counter
BLOCKS = "--blocks" in sys.argv
SETTLE = 0.0
"""Seconds of idle time before each timed call (``--settle``): by then both libraries' idle
workers have stopped spinning (OpenBLAS after about 0.1 s, GNU OpenMP after well under that), so
neither side runs while the other's pool still burns a core, and neither pays for its own
workers being put to sleep early (``--quiet-threads``). Every call starts the way a server's
call does after a pause: workers asleep, caches warm."""


def interleaved(
    fns: dict[str, Callable[[], Any]], rounds: int, slow: tuple[str, ...] = ("scipy",)
) -> dict[str, float]:
    """Median seconds per call of each function, calling them in turn each round.

    The ``slow`` ones (SciPy, seconds per call on the big cases) run in the first 3 rounds only.
    """
    for fn in fns.values():  # warm-up: imports, plans, allocator
        fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    order = [(i, n) for i in range(rounds) for n in fns]
    if BLOCKS:  # all rounds of one implementation, then the next (a diagnostic, see README)
        order = [(i, n) for n in fns for i in range(rounds)]
    for i, name in order:
        if name in slow and i >= 3:
            continue
        if SETTLE:
            time.sleep(SETTLE)
        t0 = clock()
        fns[name]()
        times[name].append(clock() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def peak_extra_mb(fn: Callable[[], Any]) -> float:
    """Peak bytes allocated during ``fn()`` (NumPy allocations, via tracemalloc), in MB.

    The per-thread scratch buffers are dropped first, so the figure is that of a cold call
    (tiles included), not of one that reuses the previous call's tiles.
    """
    _scratch.clear()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    result = fn()
    peak = tracemalloc.get_traced_memory()[1] - base
    del result
    tracemalloc.stop()
    return peak / 2**20


def scipy_conv(x: np.ndarray, w: np.ndarray, stride: int, padding: int) -> np.ndarray:
    """SciPy: one N-d correlation per filter over all channels ("valid" on the padded input)."""
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding)))
    if w.shape[2] <= 7:
        outs = [
            scipy.ndimage.correlate(xp, wf, mode="constant")[
                w.shape[1] // 2,
                (w.shape[2] - 1) // 2 : xp.shape[1] - w.shape[2] // 2 : stride,
                (w.shape[3] - 1) // 2 : xp.shape[2] - w.shape[3] // 2 : stride,
            ]
            for wf in w
        ]
    else:
        outs = [scipy.signal.correlate(xp, wf, mode="valid")[0, ::stride, ::stride] for wf in w]
    return np.stack(outs)


def fmt(v: float | None, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def run_conv(cases: list[ConvCase], rounds: int, rng: np.random.Generator) -> list[float]:
    print(
        f"| {'case':28} | method | ours ms | torch ms | ratio | scipy ms | scipy/torch "
        f"| extra MB | out MB | rel. diff |"
    )
    print("|" + "|".join(["---"] * 10) + "|")
    ratios = []
    for case in cases:
        x = rng.standard_normal(case.x, dtype=np.float32)
        w = rng.standard_normal(case.w, dtype=np.float32)
        kw = {"stride": case.stride, "padding": case.padding}
        fns: dict[str, Callable[[], Any]] = {"ours": lambda x=x, w=w, kw=kw: conv(x, w, **kw)}
        if torch is not None:
            xt, wt = torch.from_numpy(x[None]), torch.from_numpy(w)

            def torch_fn(xt: Any = xt, wt: Any = wt, kw: Any = kw) -> Any:
                with torch.no_grad():
                    return tfn.conv2d(xt, wt, **kw)

            fns["torch"] = torch_fn
        # SciPy runs per (filter) N-d correlation; with many channel pairs it takes seconds
        if scipy is not None and case.w[0] * case.w[1] <= 48:
            fns["scipy"] = lambda x=x, w=w, case=case: scipy_conv(x, w, case.stride, case.padding)
        t = interleaved(fns, rounds)
        ours = conv(x, w, **kw)
        extra = peak_extra_mb(lambda x=x, w=w, kw=kw: conv(x, w, **kw))
        ratio = diff = None
        if "torch" in t:
            ratio = t["ours"] / t["torch"]
            ratios.append(ratio)
            ref = fns["torch"]()[0].numpy()
            diff = float(np.max(np.abs(ours - ref)) / np.max(np.abs(ref)))
        sp_ratio = t["scipy"] / t["torch"] if "scipy" in t and "torch" in t else None
        print(
            f"| {case.name:28} | {conv_method(x, w, **kw):6} | {t['ours'] * 1e3:7.2f} "
            f"| {fmt(t.get('torch', 0) * 1e3 or None, '8.2f')} | {fmt(ratio, '5.2f')} "
            f"| {fmt(t['scipy'] * 1e3 if 'scipy' in t else None, '8.1f')} "
            f"| {fmt(sp_ratio, '6.1f')} | {extra:8.1f} | {ours.nbytes / 2**20:6.1f} "
            f"| {fmt(diff, '.1e')} |"
        )
    return ratios


def run_pool(shape: tuple[int, ...], rounds: int, rng: np.random.Generator) -> None:
    if pool is None:
        print("\n(pooling: server.core.pooling not importable yet, skipped)")
        return
    x = rng.standard_normal(shape, dtype=np.float32)
    print(
        f"\n| pool 2x2 s2 on {'x'.join(map(str, shape))} | ours ms | torch ms | ratio "
        f"| scipy ms | extra MB | rel. diff |"
    )
    print("|" + "|".join(["---"] * 7) + "|")
    for mode in ("max", "avg"):
        fns: dict[str, Callable[[], Any]] = {
            "ours": lambda mode=mode: pool(x, mode=mode, kernel_size=(2, 2), stride=2)
        }
        if torch is not None:
            xt = torch.from_numpy(x[None])
            tf = tfn.max_pool2d if mode == "max" else tfn.avg_pool2d
            fns["torch"] = lambda tf=tf, xt=xt: tf(xt, 2, 2)
        if scipy is not None:
            nd = scipy.ndimage
            filt = nd.maximum_filter if mode == "max" else nd.uniform_filter
            fns["scipy"] = lambda f=filt: f(x, size=(1, 2, 2), origin=(0, -1, -1))[:, ::2, ::2]
        t = interleaved(fns, rounds)
        extra = peak_extra_mb(fns["ours"])
        ratio = diff = None
        if "torch" in t:
            ratio = t["ours"] / t["torch"]
            ref = fns["torch"]()[0].numpy()
            diff = float(np.max(np.abs(fns["ours"]() - ref)) / np.max(np.abs(ref)))
        print(
            f"| {mode:28} | {t['ours'] * 1e3:7.2f} "
            f"| {fmt(t.get('torch', 0) * 1e3 or None, '8.2f')} "
            f"| {fmt(ratio, '5.2f')} | {fmt(t['scipy'] * 1e3 if 'scipy' in t else None, '8.1f')} "
            f"| {extra:8.1f} | {fmt(diff, '.1e')} |"
        )


def run_memory(side: int, filters: int, rng: np.random.Generator) -> None:
    x = rng.integers(0, 256, (3, side, side)).astype(np.float32)
    w = rng.standard_normal((filters, 3, 3, 3), dtype=np.float32)
    out_mb = filters * side * side * 4 / 2**20
    t0 = time.perf_counter()
    extra = peak_extra_mb(lambda: conv(x, w, padding=1))
    elapsed = time.perf_counter() - t0
    print(
        f"\nmemory: {side}x{side} RGB, {filters} 3x3 filters, pad 1: output {out_mb:.1f} MB, "
        f"peak extra {extra:.1f} MB (+{extra - out_mb:.1f} MB over the output; "
        f"{elapsed:.2f} s under tracemalloc)"
    )


POOL_SHAPE = (16, 512, 512)
QUICK_POOL_SHAPE = (4, 64, 64)


def worker_main(argv: list[str]) -> int:
    """One side of one --isolated measurement (run in a subprocess by `run_isolated`).

    ``--worker SIDE KIND INDEX REPS SAVE [--quick] [--single-thread]``: SIDE is ours or torch,
    KIND conv or pool-max / pool-avg, INDEX the case number. Prints one line of JSON: the median
    seconds of REPS timed calls after 3 warm-up calls, the method, the peak extra MB (ours, when
    SAVE is not "-") and saves the result to SAVE (an .npy path, or "-" for none).
    """
    import json

    side, kind, index, reps, save = argv[argv.index("--worker") + 1 :][:5]
    quick = "--quick" in argv
    rng = np.random.default_rng(1000 + int(index))
    info: dict[str, Any] = {}
    if kind == "conv":
        case = (QUICK_CASES if quick else CASES)[int(index)]
        x = rng.standard_normal(case.x, dtype=np.float32)
        w = rng.standard_normal(case.w, dtype=np.float32)
        kw = {"stride": case.stride, "padding": case.padding}
        if side == "ours":
            info["method"] = conv_method(x, w, **kw)

            def fn() -> Any:
                return conv(x, w, **kw)

        else:
            xt, wt = torch.from_numpy(x[None]), torch.from_numpy(w)

            def fn() -> Any:
                with torch.no_grad():
                    return tfn.conv2d(xt, wt, **kw)[0].numpy()

    else:
        mode = kind.split("-", 1)[1]
        x = rng.standard_normal(QUICK_POOL_SHAPE if quick else POOL_SHAPE, dtype=np.float32)
        if side == "ours":

            def fn() -> Any:
                return pool(x, mode=mode, kernel_size=(2, 2), stride=2)

        else:
            xt = torch.from_numpy(x[None])
            tf = tfn.max_pool2d if mode == "max" else tfn.avg_pool2d

            def fn() -> Any:
                return tf(xt, 2, 2)[0].numpy()

    for _ in range(3):
        result = fn()
    times = []
    for _ in range(int(reps)):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    info["seconds"] = statistics.median(times)
    if save != "-":
        np.save(save, np.asarray(result))
        if side == "ours":
            info["extra_mb"] = peak_extra_mb(fn)
    print(json.dumps(info))
    return 0


def _spawn(side: str, kind: str, index: int, reps: int, save: str, quick: bool) -> dict[str, Any]:
    import json
    import subprocess

    cmd = [sys.executable, __file__, "--worker", side, kind, str(index), str(reps), save]
    cmd += ["--quick"] * quick + ["--single-thread"] * SINGLE
    env = dict(os.environ)
    if SINGLE:
        env["OPENBLAS_NUM_THREADS"] = "1"
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        raise RuntimeError(f"worker {side} {kind} {index} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run_isolated(rounds: int, reps: int, quick: bool, only: set[int] | None = None) -> None:
    """Every case, each side in its own processes, alternating order; medians (see module doc)."""
    import tempfile

    sides = ["ours"] + (["torch"] if torch is not None else [])
    cases = QUICK_CASES if quick else CASES
    jobs = [("conv", i, c.name, c) for i, c in enumerate(cases)]
    shape = "x".join(map(str, QUICK_POOL_SHAPE if quick else POOL_SHAPE))
    jobs += [(f"pool-{m}", 0, f"pool {m} 2x2 s2 {shape}", None) for m in ("max", "avg")]
    print(
        f"| {'case':32} | method    | ours ms | torch ms | ratio | extra MB | out MB | rel. diff |"
    )
    print("|" + "|".join(["---"] * 8) + "|")
    if only:
        jobs = [job for n, job in enumerate(jobs) if n in only]
    conv_ratios: list[float] = []
    all_ratios: list[float] = []
    diffs: list[float] = []
    print(f"(load average at the start: {load_average()})", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for kind, index, name, _case in jobs:
            got: dict[str, list[float]] = {s: [] for s in sides}
            first: dict[str, dict[str, Any]] = {}
            for r in range(rounds):
                for side in sides if r % 2 == 0 else sides[::-1]:
                    save = os.path.join(tmp, f"{side}.npy") if r == 0 else "-"
                    info = _spawn(side, kind, index, reps, save, quick)
                    got[side].append(info["seconds"])
                    first.setdefault(side, info)
            ours = statistics.median(got["ours"])
            out = np.load(os.path.join(tmp, "ours.npy"))
            ratio = diff = None
            if "torch" in got:
                theirs = statistics.median(got["torch"])
                ratio = ours / theirs
                all_ratios.append(ratio)
                if kind == "conv":
                    conv_ratios.append(ratio)
                ref = np.load(os.path.join(tmp, "torch.npy"))
                diff = float(np.max(np.abs(out - ref)) / np.max(np.abs(ref)))
                diffs.append(diff)
            print(
                f"| {name:32} | {first['ours'].get('method', '-'):9} | {ours * 1e3:7.2f} "
                f"| {fmt(theirs * 1e3 if ratio else None, '8.2f')} | {fmt(ratio, '5.2f')} "
                f"| {first['ours']['extra_mb']:8.1f} | {out.nbytes / 2**20:6.1f} "
                f"| {fmt(diff, '.1e')} |",
                flush=True,
            )
    for label, rs in (("conv", conv_ratios), ("conv and pooling", all_ratios)):
        if rs:
            geo = math.exp(sum(math.log(r) for r in rs) / len(rs))
            print(f"\n{label} geometric mean ratio (ours / torch): {geo:.2f}; worst {max(rs):.2f}")
    print()
    if all_ratios:
        worst, diff = max(all_ratios), max(diffs)
        for label, rs in (("conv", conv_ratios), ("conv and pooling", all_ratios)):
            if not rs:
                continue
            geo = math.exp(sum(math.log(r) for r in rs) / len(rs))
            verdict = "met" if geo <= 0.6 and worst <= 1.2 and diff <= 1e-5 else "NOT met"
            print(
                f"issue 16 targets over {label} (geometric mean <= 0.6, every row <= 1.2, "
                f"rel. diff <= 1e-5): {verdict}: geometric mean {geo:.2f}, worst row "
                f"{worst:.2f}, largest rel. diff {diff:.1e}"
                + (" (only some rows run)" if only else "")
            )
    print(f"(load average at the end: {load_average()})")


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (``uptime``'s), or "-" where /proc is absent."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one round (CI smoke)")
    parser.add_argument("--settle", type=float, default=0.0, help="idle seconds before each call")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds per case")
    parser.add_argument(
        "--single-thread", action="store_true", help="CPU time, one thread on both sides"
    )
    parser.add_argument(
        "--quiet-threads", action="store_true", help="idle BLAS/OpenMP workers sleep at once"
    )
    parser.add_argument(
        "--blocks", action="store_true", help="time each implementation in its own block"
    )
    parser.add_argument(
        "--isolated", action="store_true", help="each library in its own process per round"
    )
    parser.add_argument("--reps", type=int, default=9, help="--isolated: timed calls per process")
    parser.add_argument(
        "--only", default="", help="--isolated: comma-separated row numbers (0-based) to run"
    )
    if WORKER is not None:
        return worker_main(sys.argv if argv is None else argv)
    args = parser.parse_args(argv)
    global SETTLE
    SETTLE = args.settle
    rng = np.random.default_rng(0)
    rounds = args.rounds or (2 if args.quick else 5 if args.isolated else 15)
    reps = 2 if args.quick else args.reps
    print(
        f"numpy {np.__version__}, torch {torch.__version__ if torch else 'absent'} "
        f"(threads {torch.get_num_threads() if torch else '-'}), "
        f"scipy {scipy.__version__ if scipy else 'absent'}; median of {rounds} rounds"
        + (f" (each the median of {reps} calls after 3 warm-ups)" if args.isolated else "")
        + (", each side in its own processes" if args.isolated else "")
        + (" of CPU time, one thread each" if SINGLE else " of wall time")
        + (", in blocks" if BLOCKS else ", alternating" if args.isolated else ", interleaved")
        + (f", {SETTLE:g} s idle before each call" if SETTLE else "")
        + f"; OPENBLAS_THREAD_TIMEOUT={os.environ.get('OPENBLAS_THREAD_TIMEOUT', '-')}, "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '-')}\n"
    )
    if args.isolated:
        only = {int(i) for i in args.only.split(",") if i.strip()}
        run_isolated(rounds, reps, args.quick, only)
        return 0
    ratios = run_conv(QUICK_CASES if args.quick else CASES, rounds, rng)
    if ratios:
        geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        print(f"\nconv geometric mean ratio (ours / torch): {geo:.2f}; worst {max(ratios):.2f}")
    run_pool(QUICK_POOL_SHAPE if args.quick else POOL_SHAPE, rounds, rng)
    if args.quick:
        run_memory(256, 4, rng)
    else:
        run_memory(4096, 16, rng)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
