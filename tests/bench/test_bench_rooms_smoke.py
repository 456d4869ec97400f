"""The rooms benchmark keeps working: a quick run exits cleanly and prints both rows (no timing
is asserted: benchmarks are never timed tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_rooms_prints_both_setups_when_quick() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_rooms.py"), "--quick"],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    memory = next(line for line in lines if line.startswith("| one process, memory |"))
    assert memory.split("|")[2].strip() == "100"  # 5 students x 20 states, every one received
    assert any(line.startswith("| Redis, two workers |") for line in lines), result.stdout
