"""The service benchmark keeps working: a quick run exits cleanly and prints its table.

No timing is asserted (benchmarks are never timed tests); this only proves that the bench can
start the real app under uvicorn, upload, render, page frames, render under concurrent clients
and report.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_service_prints_table_when_quick() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_service.py"), "--quick"],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("| case | client p50 ms") for line in lines), result.stdout
    for case in ("| health", "| conv/render", "| frames"):
        assert any(line.startswith(case) for line in lines), (case, result.stdout)
    assert "identical to in-process: True" in result.stdout
    load = [line for line in lines if line.startswith("| 1 |") or line.startswith("| 4 |")]
    assert len(load) == 2, result.stdout  # the --clients 1,4 rows of the quick run
    assert all(line.split("|")[3].strip() == "0" for line in load), result.stdout  # no errors
