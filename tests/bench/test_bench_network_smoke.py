"""The network benchmark keeps working: a quick run exits cleanly and prints its table.

No timing is asserted (benchmarks are never timed tests); this only proves that the bench can
run the block through the core and through /api/network/run, that both agree (numbers,
thumbnails and the map opened large), and that it reports the ratio.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_network_prints_ratio_when_quick() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_network.py"), "--quick"],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("| case | median ms | ratio to core") for line in lines)
    for case in ("| core |", "| run (in-process) |", "| open large (1 channel, full size) |"):
        assert any(line.startswith(case) for line in lines), (case, result.stdout)
    assert "difference core vs service" in result.stdout
    assert "the large map vs the core's maps: at most" in result.stdout
    assert "run / core:" in result.stdout
