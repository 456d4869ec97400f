"""The benchmarks keep working: a tiny run of each (never timed; see bench/README.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("script", "extra"),
    [("bench_core.py", []),
     # every kind of isolated job (direct and FFT convolutions, both poolings), each side in its
     # own processes: the other rows run the same worker code on other shapes (and above)
     ("bench_core.py", ["--isolated", "--only", "0,2,5,6"]),
     ("bench_scaling.py", [])],
)
def test_bench_quick_run_completes(script: str, extra: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), "--quick", *extra],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| direct" in done.stdout or "direct |" in done.stdout
