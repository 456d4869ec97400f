"""The Dockerfile, checked without Docker (it cannot run here): its rules read from the file,
its COPY list proven sufficient by serving the app from a directory holding only those paths,
its dependency list proven to cover every module the package imports, its HEALTHCHECK run.
(``hadolint Dockerfile`` was also clean when it was written; see README.)"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import httpx
from live_server import free_port, wait_until
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
TEXT = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def _instructions() -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", TEXT)
    lines = [line.strip() for line in joined.splitlines()]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines
            if line and not line.startswith("#")]


def _all(keyword: str) -> list[str]:
    return [args for name, args in _instructions() if name == keyword]


def _env() -> dict[str, str]:
    env: dict[str, str] = {}
    for args in _all("ENV"):
        for item in shlex.split(args):
            key, _, value = item.partition("=")
            env[key] = value
    return env


def test_dockerfile_uses_slim_base_and_non_root_user() -> None:
    assert re.fullmatch(r"python:3\.\d+-slim", _all("FROM")[0])
    user = _all("USER")[-1]
    assert user.split(":")[0] not in ("root", "0")
    names = [name for name, _ in _instructions()]
    assert names.index("USER") < names.index("CMD")


def test_dockerfile_installs_dependencies_before_code() -> None:
    steps = _instructions()
    copies = [i for i, (name, _) in enumerate(steps) if name == "COPY"]
    install = next(i for i, (name, args) in enumerate(steps)
                   if name == "RUN" and "pip install" in args)
    assert steps[copies[0]][1].split()[0] == "pyproject.toml"
    assert copies[0] < install < copies[1]
    assert " -e " not in f" {steps[install][1]} " and "--editable" not in steps[install][1]


def test_dockerfile_requirements_cover_every_import() -> None:
    """Every third-party module the package imports at module level is installed by the
    dependency list the Dockerfile reads (pyproject's), directly or as a dependency of one."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    installed: set[str] = set()
    todo = [Requirement(text).name for text in declared]
    while todo:
        name = _norm(todo.pop())
        if name in installed:
            continue
        installed.add(name)
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    providers = metadata.packages_distributions()
    for module in sorted(_top_level_imports(ROOT / "server")):
        dists = {_norm(d) for d in providers.get(module, [])}
        assert dists & installed, f"`{module}` is imported but no dependency installs it"


def test_dockerfile_copies_what_the_app_needs(tmp_path: Path) -> None:
    """Lay out /app as the image would (only the COPY sources), serve it, and use it."""
    app = tmp_path / "app"
    app.mkdir()
    for args in _all("COPY"):
        *sources, _ = args.split()
        for source in sources:
            path = ROOT / source.rstrip("/")
            if path.is_dir():
                shutil.copytree(path, app / path.name,
                                ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(path, app / path.name)
    env = {**os.environ, **_env(), "SVERTKA_HOST": "127.0.0.1",
           "SVERTKA_PORT": str(free_port()), "SVERTKA_DATA_DIR": str(tmp_path / "data"),
           "PYTHONPATH": ""}
    url = f"http://127.0.0.1:{env['SVERTKA_PORT']}"
    command = json.loads(_all("CMD")[0])  # the exec form is a JSON array
    assert command[:3] == ["python", "-m", "server"]
    server = subprocess.Popen([sys.executable, *command[1:]], cwd=app, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        def up() -> bool:
            assert server.poll() is None, "the app did not start from the image's files"
            try:
                return httpx.get(url + "/api/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(up, 120, "the app laid out as in the image")
        probe = json.loads(_all("HEALTHCHECK")[0].split(" CMD ", 1)[1])
        assert probe[:2] == ["python", "-c"] and "/api/health" in probe[2]
        check = subprocess.run([sys.executable, *probe[1:]], env=env, timeout=30)
        assert check.returncode == 0
        for page in ("/", "/step", "/network", "/docs", "/static/js/page.js"):
            assert httpx.get(url + page, timeout=30).status_code == 200, page
        samples = httpx.get(url + "/api/samples", timeout=30).json()
        assert len(samples) >= 5  # the sample photos came along
        assert httpx.get(url + samples[0]["url"], timeout=30).status_code == 200
        assert (tmp_path / "data" / "images").is_dir()  # the volume's path is where data goes
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
    assert _env()["SVERTKA_DATA_DIR"] in _all("VOLUME")[0]
    assert "SVERTKA_WORKERS" in _env()


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _top_level_imports(package: Path) -> set[str]:
    modules: set[str] = set()
    for path in package.rglob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return {m for m in modules if m not in sys.stdlib_module_names and m != "server"}
