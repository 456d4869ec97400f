"""``python -m server`` does what the ``svertka`` command does."""

from __future__ import annotations

from .cli import main

raise SystemExit(main())
