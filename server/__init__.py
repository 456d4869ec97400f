"""Svertka: convolutional-network arithmetic as a web service and a browser visualizer."""

from __future__ import annotations

__version__ = "0.1.0"
