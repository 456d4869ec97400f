"""The load benchmark keeps working: a quick run (4 clients, 2 s) exits cleanly with no failed
request and prints its table. No timing is asserted: benchmarks are never timed tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_load_reports_without_errors_when_quick() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_load.py"), "--quick"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "| endpoint | requests | req/s | p50 ms | p99 ms | errors |" in lines
    for endpoint in ("conv", "frames", "render", "health"):
        row = next(line for line in lines if line.startswith(f"| {endpoint} |"))
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert int(cells[1]) > 0 and cells[5] == "0", row  # requests made, none failed
    assert "errors: 0 (target 0)" in lines
    assert any(line.startswith("server peak memory: ") for line in lines)
