"""README stays true: its set-up commands are the ones CI runs, and every setting is documented."""

from __future__ import annotations

import re
from pathlib import Path

from server.config import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _shell_lines() -> list[str]:
    blocks = re.findall(r"```(?:sh|bash|console)\n(.*?)```", README, flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_readme_test_command_is_what_ci_runs() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = re.search(r"^TEST_COMMAND='(.+)'$", ci, flags=re.M)
    assert command is not None, ".ci/run must define TEST_COMMAND"
    assert command.group(1) in _shell_lines()


def test_readme_serve_command_starts_svertka() -> None:
    serve = [line for line in _shell_lines() if "svertka serve" in line]
    assert serve, "README must show how to install and start the server"
    assert serve[0].startswith("pip install")


def test_readme_documents_every_setting() -> None:
    missing = [
        f"SVERTKA_{name.upper()}"
        for name in Settings.model_fields
        if f"`SVERTKA_{name.upper()}`" not in README
    ]
    assert not missing, f"README's settings table lacks {missing}"
