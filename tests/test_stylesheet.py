"""The one stylesheet stays well formed: every block it opens it closes, in order. A block left
open swallows every rule after it into (say) a phone-only media query, which no browser reports
as an error; this test does."""

from __future__ import annotations

import re
from pathlib import Path

CSS = Path(__file__).resolve().parents[1] / "static" / "css" / "svertka.css"


def test_every_block_of_the_stylesheet_is_closed() -> None:
    text = re.sub(r"/\*.*?\*/", "", CSS.read_text(encoding="utf-8"), flags=re.S)
    text = re.sub(r'"[^"\n]*"|\'[^\'\n]*\'', '""', text)  # braces inside strings do not count
    depth = 0
    for number, line in enumerate(text.splitlines(), start=1):
        for char in line:
            depth += {"{": 1, "}": -1}.get(char, 0)
            assert depth >= 0, f"line {number} closes a block that was never opened"
    assert depth == 0, f"{depth} block(s) left open at the end of {CSS.name}"
