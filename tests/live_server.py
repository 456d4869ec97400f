"""Real server processes for the tests that need them (several workers, kill -9).

`LiveServer` starts ``python -m server serve`` (the `svertka` command) in its own process group
on a free loopback port with the given environment, waits until ``/api/health`` answers, and on
exit stops that group and nothing else.

A free port is chosen before the server binds it, so another process (a pytest-xdist worker's
server, a client's outgoing connection) may take it in between: the server counts as up only
when the process that answers is in its group, and one that finds its port taken starts again
on another.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import httpx

ROOT = Path(__file__).resolve().parents[1]
PORT_ATTEMPTS = 5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listens(pid: int, port: int) -> bool:
    """Whether process ``pid`` holds the socket listening on loopback ``port`` (Linux /proc).

    How a test knows that the server answering on a port is the one it started: the port is
    chosen before the server binds it, so another process may have taken it in between, and
    the server's answers do not name its process (X-Svertka-Worker is an opaque name).
    """
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()  # sl, local address, remote, state, ..., inode (10th)
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
    if not inodes:
        return False
    with contextlib.suppress(OSError):  # the process may have exited meanwhile
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd) in inodes:
                    return True
    return False


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


class LiveServer:
    """``with LiveServer(data_dir, "--workers", "2") as server: httpx.get(server.url + ...)``."""

    def __init__(self, data_dir: Path, *args: str, env: dict[str, str] | None = None,
                 log: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = args
        self.env = {**os.environ, "SVERTKA_DATA_DIR": str(data_dir), **(env or {})}
        self.log_path = log or data_dir.parent / f"server-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> LiveServer:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(PORT_ATTEMPTS):
            log = self.log_path.open("ab")
            self.process = subprocess.Popen(
                [sys.executable, "-m", "server", "serve", "--port", str(self.port), *self.args],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: stopping it stops its workers too
            )
            log.close()
            wait_until(self._healthy, 120, f"the server on {self.url} (log: {self.log_path})")
            if self.process.poll() is None:
                return self
            self.port = free_port()  # the port was taken before the server bound it
            self.url = f"http://127.0.0.1:{self.port}"
        raise AssertionError(f"no free port in {PORT_ATTEMPTS} tries (log: {self.log_path})")

    def _healthy(self) -> bool:
        """True once our server answers, or once it exited because its port was taken."""
        assert self.process is not None
        if self.process.poll() is not None:
            text = self.log_path.read_text(errors="replace")
            if "address already in use" in text.lower():
                self.log_path.write_text("")  # the next try's log starts afresh
                return True
            raise AssertionError(f"the server exited: {text[-3000:]}")
        try:
            answer = httpx.get(self.url + "/api/health", timeout=2)
        except httpx.HTTPError:
            return False
        # ours answered only if our process holds the listening socket (uvicorn's manager binds
        # it and hands it to the workers); another server that took the port first does not
        return answer.status_code == 200 and listens(self.process.pid, self.port)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the server's whole process group, then reap the main process."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):  # the group may be gone already
            os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            if sig == signal.SIGKILL:
                raise

    def stop(self) -> None:
        self.kill(signal.SIGTERM)
        self.kill(signal.SIGKILL)  # workers that outlived their manager

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()
