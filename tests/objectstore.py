"""A real S3 server for the tests: moto's server mode, a separate process speaking S3 over HTTP.

LabelHub talks to it through the same boto3 / django-storages client it uses for AWS, MinIO or
Ceph; nothing of moto is imported here or in LabelHub. When ``S3_ENDPOINT_URL`` is already set
(CI starts one server for the run with ``MEDIA_STORAGE=s3``), that server is used instead.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass

import boto3
import pytest
from botocore.config import Config

# Besides tests/test_object_storage.py, the files whose tests store or serve files and pass on
# either storage: CI runs them all (``-m media``) once more with MEDIA_STORAGE=s3.
MEDIA_TEST_FILES = (
    "tests/annotation/test_importing.py",
    "tests/annotation/test_api_tasks.py",
    "tests/annotation/test_data_manager.py",
    "tests/annotation/test_preview.py",
    "tests/annotation/test_task_pages.py",
    "tests/exports/test_pages_and_api.py",
    "tests/exports/test_job_recovery.py",
    "tests/quality/test_reviews.py",
    "tests/labelhub/test_project_lifecycle.py",
)
KEY_ID, SECRET = "labelhub-test", "labelhub-test-secret"
REGION = "us-east-1"


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    key_id: str
    secret: str
    region: str

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.key_id,
            aws_secret_access_key=self.secret,
            region_name=self.region,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def storage_options(self, bucket: str) -> dict:
        """What ``MEDIA_STORAGE=s3`` with these ``S3_*`` values gives (config.settings)."""
        return {
            "bucket_name": bucket,
            "endpoint_url": self.endpoint,
            "region_name": self.region,
            "access_key": self.key_id,
            "secret_key": self.secret,
            "addressing_style": "path",
            "signature_version": "s3v4",
            "file_overwrite": False,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 300,
            "max_memory_size": 5 * 1024 * 1024,
        }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def s3_server_process():
    """Start moto's S3 server on a free loopback port; always stopped on the way out."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the S3 test server did not start") from None
                time.sleep(0.1)
        yield S3Server(f"http://127.0.0.1:{port}", KEY_ID, SECRET, REGION)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def s3_server():
    if os.environ.get("S3_ENDPOINT_URL"):
        yield S3Server(
            os.environ["S3_ENDPOINT_URL"],
            os.environ.get("S3_ACCESS_KEY_ID", KEY_ID),
            os.environ.get("S3_SECRET_ACCESS_KEY", SECRET),
            os.environ.get("S3_REGION", REGION),
        )
        return
    with s3_server_process() as server:
        yield server


@pytest.fixture
def s3_storage(s3_server, settings):
    """Django's default storage in a fresh bucket of the S3 server, for one test."""
    bucket = f"labelhub-{uuid.uuid4().hex[:12]}"
    client = s3_server.client()
    client.create_bucket(Bucket=bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": s3_server.storage_options(bucket),
        },
    }
    return client, bucket


def bucket_keys(client, bucket: str) -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", ()))


def ensure_configured_bucket() -> None:
    """With ``MEDIA_STORAGE=s3`` (CI's S3 run), create the configured bucket if it is missing."""
    from django.core.files.storage import default_storage
    from storages.backends.s3 import S3Storage

    if not isinstance(default_storage, S3Storage):
        return
    client = default_storage.connection.meta.client
    with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(Bucket=default_storage.bucket_name)


def downloaded(response) -> bytes:
    """The bytes of a file response: streamed by the app (local disk) or, from an object store,
    fetched by the short-lived link it redirected to."""
    if response.status_code == 302:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(response["Location"], timeout=10) as answer:
            return answer.read()
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content)
