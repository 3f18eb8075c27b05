"""A local S3-compatible server for tests: moto's server mode, as a subprocess.

It listens on a free loopback port and speaks the S3 protocol boto3 and
django-storages use against AWS, MinIO or any S3-compatible store; objects live in
the subprocess's memory and go with it. Any access key is accepted.

    with LocalS3Server(log_path) as server:
        client = server.client()
        client.create_bucket(Bucket="photos")
        ... settings pointing S3_ENDPOINT_URL at server.endpoint_url ...

Starting raises :class:`S3ServerError` with the server's output when it does not
answer in time, so a test needing it fails saying why instead of being skipped.
"""

import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Self

import boto3

from tests.services import free_port

ACCESS_KEY = "local-test-key"
SECRET_KEY = "local-test-secret"  # noqa: S105 - any key works on the local server
REGION = "us-east-1"


class S3ServerError(RuntimeError):
    pass


class LocalS3Server:
    def __init__(self, log_path: Path, *, start_timeout: float = 30) -> None:
        self.log_path = log_path
        self.start_timeout = start_timeout
        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv: moto's server from our own venv
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise S3ServerError(
                    f"the local S3 server (moto) exited with {self.process.returncode}:\n{self.output()}"
                )
            try:
                # moto's own API answers once the server is up, whatever the buckets.
                with urllib.request.urlopen(f"{self.endpoint_url}/moto-api/", timeout=1):  # noqa: S310
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        self.stop()
        raise S3ServerError(
            f"the local S3 server (moto) did not answer on {self.endpoint_url} within "
            f"{self.start_timeout:.0f} s:\n{self.output()}"
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "_log", None) is not None:
            self._log.close()
            self._log = None

    def client(self) -> Any:
        """A boto3 S3 client of the server, as a separate party (not Django) sees it."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        )
