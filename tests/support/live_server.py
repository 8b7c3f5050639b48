"""A real server process (uvicorn on 127.0.0.1) that a test can start, kill with SIGKILL and restart."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kill_process(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGKILL a child that still runs and wait for it: no shutdown handlers, no flush."""
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)


def stop_process(proc: subprocess.Popen[bytes] | None) -> None:
    """Ask a child that still runs to stop (SIGTERM); SIGKILL it if it has not within 10 s."""
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            kill_process(proc)


class LiveServer:
    def __init__(
        self,
        data_dir: Path,
        database_url: str,
        *,
        port: int | None = None,
        env: dict[str, str] | None = None,
        umask: int | None = None,
        log_path: Path | None = None,
    ):
        """``umask``: the server's and the CLI's own (else this process's); ``log_path``: where
        the server's output goes (default ``server.log`` in the data folder, made if need be)."""
        self.data_dir = data_dir
        self.database_url = database_url
        self.port = port or free_port()
        self.extra_env = env or {}
        self.umask = umask if umask is not None else -1
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = log_path or data_dir / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "XUNCHA_DATA_DIR": str(self.data_dir),
                "XUNCHA_DATABASE_URL": self.database_url,
                "PYTHONPATH": str(ROOT),
            }
        )
        env.update(self.extra_env)
        return env

    def cli(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run ``xuncha-server ARGS`` against this server's data folder and database."""
        return subprocess.run(
            [sys.executable, "-m", "server", *args],
            env=self.env(),
            cwd=ROOT,
            input=input,
            capture_output=True,
            text=True,
            timeout=300,
            umask=self.umask,
        )

    def start(self, timeout: float = 30.0) -> LiveServer:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - the process owns it
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            env=self.env(),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            umask=self.umask,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_path.read_text()[-4000:]}")
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not start in {timeout}s:\n{self.log_path.read_text()[-4000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flush; what a power cut or OOM kill looks like."""
        kill_process(self.proc)

    def stop(self) -> None:
        stop_process(self.proc)

    def add_user(self, username: str, role: str, password: str = "password-123", **kw: str) -> None:
        args = ["user", "add", username, "--role", role]
        for k, v in kw.items():
            args += [f"--{k.replace('_', '-')}", v]
        done = self.cli(*args, input=password + "\n")
        if done.returncode != 0:
            raise RuntimeError(done.stderr)

    def enroll(self, username: str, password: str = "password-123", kind: str = "phone") -> dict:
        r = httpx.post(
            f"{self.url}/api/v1/auth/enroll",
            json={"username": username, "password": password, "device_name": f"test {kind}", "kind": kind},
            timeout=30,
        )
        r.raise_for_status()
        return r.json()

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def rows(self, sql: str, params: dict[str, Any] | None = None) -> list[Any]:
        """The rows a query finds in the server's database, read as another process would."""
        import sqlalchemy as sa

        engine = sa.create_engine(self.database_url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                return list(conn.execute(sa.text(sql), params or {}).all())
        finally:
            engine.dispose()

    def scalar(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        """The one value a query finds (``SELECT COUNT(*) …``)."""
        (row,) = self.rows(sql, params)
        return row[0]
