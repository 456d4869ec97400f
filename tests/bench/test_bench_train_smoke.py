"""The training benchmark keeps working: a quick run exits cleanly and prints its table (no
timing is asserted: benchmarks are never timed tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_train_prints_both_sides_when_quick() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_train.py"), "--quick"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "| ours |" in result.stdout
    assert "| torch |" in result.stdout and "ratio ours / torch" in result.stdout
