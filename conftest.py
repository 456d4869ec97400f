"""How the suite is spread over the machine's cores (pytest-xdist), for every path pytest runs.

pyproject's addopts ask for ``-n auto --dist loadgroup``: one worker process per core. A run of one
file or one test (``python -m pytest -q tests/web/test_api_conv.py``) stays in-process, where
starting workers would cost more than they save; ``-n 2`` asks for workers all the same, and
``-n 0`` or ``-p no:xdist`` runs anything in-process. Without pytest-xdist (``-p no:xdist``, or
an environment that lacks it) the ``-n`` and ``--dist`` of addopts are accepted and do nothing.

Every fixture is safe beside another worker: servers listen on free loopback ports, data lives
in each worker's own temporary directory (tests/conftest.py, tests/e2e, tests/rooms).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    if pluginmanager.has_plugin("xdist"):
        return
    group = parser.getgroup("svertka", "without pytest-xdist")
    # pytest keeps lowercase short options to plugins; xdist declares its -n the same way
    group._addoption("-n", "--numprocesses", dest="numprocesses", default=None,
                    help="ignored: pytest-xdist is not loaded, tests run in this process")
    group.addoption("--dist", dest="dist", default="no",
                    help="ignored: pytest-xdist is not loaded, tests run in this process")


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("xdist"):
        # xdist registers this marker itself; --strict-markers needs it either way
        config.addinivalue_line(
            "markers", "xdist_group(name): run on the same pytest-xdist worker as its group")


def _names_one_file(args: list[str]) -> bool:
    if len(args) != 1:
        return False
    path = Path(args[0].split("::", 1)[0])
    return "::" in args[0] or path.is_file()


@pytest.hookimpl(tryfirst=True, optionalhook=True)  # a hook of pytest-xdist's
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto``: no workers for one file or one test, else pytest-xdist's own count (one
    per core, or ``PYTEST_XDIST_AUTO_NUM_WORKERS``)."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    if _names_one_file(list(getattr(config.option, "file_or_dir", None) or [])):
        return 0
    return None


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Leave conftest.py files out of collection: pytest loads them itself, and they hold no tests.

    ``--doctest-modules`` (addopts) would otherwise import every conftest.py again as a module
    named after its basename, ``conftest``, though none of them is in a package. When two of them
    were loaded for the paths given (``pytest tests/rooms tests/e2e/test_rooms.py``), that name
    belongs to the last one, and importing the other failed: "import file mismatch".
    """
    return True if collection_path.name == "conftest.py" else None
