"""Photos in an S3-compatible object store (``XUNCHA_PHOTOS_URL=s3://BUCKET/PREFIX``).

The one module that talks to the object store (through boto3). Layout under the prefix:

    PREFIX/photos/<sha[:2]>/<sha>          a kept photo, named by the SHA-256 of its bytes
    PREFIX/uploads/<sha>/<start>.<token>   one received chunk of a resumable upload
                                           (``server.photos.object_uploads``)

Every write carries the SHA-256 of its body (``x-amz-checksum-sha256``): the store refuses
bytes that do not match (``BadDigest``) and a 200 means stored durably, so ``put`` checks
before it acknowledges. The endpoint, keys and region come from the standard variables
``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_REGION``
(or boto3's usual chain: profile, instance role). A store that cannot be reached is a 503
``photos.store_unavailable``: nothing was kept, try again.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from server.infra.settings import Settings
from server.photos.blobs import Source, blobs_for, is_photo_name
from xuncha_core.errors import IntegrityError, UnavailableError, ValidationError

_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
_DELETE_BATCH = 1000  # the most keys one DeleteObjects request may name


@dataclass(frozen=True)
class S3Location:
    """Where photos go: a bucket, a key prefix, and how to reach the store."""

    bucket: str
    prefix: str
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, url: str, env: Mapping[str, str]) -> S3Location:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
            raise ValidationError(
                code="settings.bad_photos_url",
                message=f"XUNCHA_PHOTOS_URL={url!r} is not s3://BUCKET/PREFIX. Set it to s3://BUCKET or s3://BUCKET/PREFIX, or unset it for the local folder.",
                message_zh=f"XUNCHA_PHOTOS_URL={url!r} 不是 s3://存储桶/前缀 的形式。请改为 s3://BUCKET 或 s3://BUCKET/PREFIX，或删除该设置以使用本地文件夹。",
            )
        return cls(
            bucket=parts.netloc,
            prefix=parts.path.strip("/"),
            endpoint_url=env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or None,
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
            access_key_id=env.get("AWS_ACCESS_KEY_ID") or None,
            secret_access_key=env.get("AWS_SECRET_ACCESS_KEY") or None,
        )

    def key(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)

    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"


def sha256_header(digest_hex: str) -> str:
    """The ``x-amz-checksum-sha256`` form (base64) of a hex SHA-256."""
    return base64.b64encode(bytes.fromhex(digest_hex)).decode("ascii")


def _unavailable(location: S3Location, exc: Exception) -> UnavailableError:
    return UnavailableError(
        code="photos.store_unavailable",
        message=f"The photo store {location.url()} could not be reached or refused the request ({type(exc).__name__}); nothing was kept. Try again in a minute.",
        message_zh="照片存储暂时无法访问，本次未保存任何内容，请稍后重试。",
        detail={"store": "s3"},
        retry_after=30,
    )


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    modified: datetime


class S3Blobs:
    """Kept photos and upload chunks as objects (see the module doc)."""

    def __init__(self, location: S3Location, client: Any = None) -> None:
        self.location = location
        self.client = client or boto3.client(
            "s3",
            endpoint_url=location.endpoint_url,
            region_name=location.region,
            aws_access_key_id=location.access_key_id,
            aws_secret_access_key=location.secret_access_key,
            config=Config(
                # Path-style works on every S3-compatible store; virtual hosts need DNS per bucket.
                s3={"addressing_style": "path"},
                retries={"mode": "standard", "max_attempts": 4},
                connect_timeout=5,
                read_timeout=60,
                max_pool_connections=32,
            ),
        )

    def describe(self) -> str:
        return self.location.url()

    def photo_key(self, sha256: str) -> str:
        return self.location.key("photos", sha256[:2], sha256)

    # -- kept photos ----------------------------------------------------------------

    def put(self, sha256: str, source: Source) -> None:
        self.put_object(self.photo_key(sha256), source, sha256)

    def has(self, sha256: str) -> bool:
        return self.object_size(self.photo_key(sha256)) is not None

    def read(self, sha256: str) -> bytes:
        return self.get_object(self.photo_key(sha256))

    def chunks(self, sha256: str, block: int = 1 << 20) -> Iterator[bytes]:
        key = self.photo_key(sha256)
        try:
            body = self.client.get_object(Bucket=self.location.bucket, Key=key)["Body"]
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in _NOT_FOUND:
                raise FileNotFoundError(key) from None
            raise _unavailable(self.location, exc) from None
        except BotoCoreError as exc:
            raise _unavailable(self.location, exc) from None

        def read() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(block)
            finally:
                body.close()

        return read()

    def delete(self, sha256: str) -> None:
        self.delete_keys([self.photo_key(sha256)])

    def names(self) -> Iterator[str]:
        for obj in self.list_objects("photos/"):
            name = obj.key.rsplit("/", 1)[-1]
            if is_photo_name(name) and obj.key == self.photo_key(name):
                yield name

    # -- objects in general (upload chunks, backups) --------------------------------

    def put_object(self, key: str, source: Source, sha256: str) -> None:
        """Store ``source`` at ``key``; the store refuses it unless it hashes to ``sha256``."""
        try:
            if isinstance(source, Path):
                with open(source, "rb") as body:
                    self._put(key, body, sha256)
            else:
                self._put(key, source, sha256)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in (
                "BadDigest",
                "XAmzContentChecksumMismatch",
            ):
                raise IntegrityError(
                    code="photos.store_digest_mismatch",
                    message="The photo store received bytes that do not match their SHA-256; nothing was kept. Send the photo again.",
                    message_zh="照片存储收到的内容与其 SHA-256 不符，未保存，请重新上传。",
                    detail={"sha256": sha256},
                ) from None
            raise _unavailable(self.location, exc) from None
        except BotoCoreError as exc:
            raise _unavailable(self.location, exc) from None

    def _put(self, key: str, body: Any, sha256: str) -> None:
        self.client.put_object(
            Bucket=self.location.bucket,
            Key=key,
            Body=body,
            ChecksumSHA256=sha256_header(sha256),
            ContentType="application/octet-stream",
        )

    def put_bytes(self, key: str, data: bytes) -> None:
        self.put_object(key, data, hashlib.sha256(data).hexdigest())

    def get_object(self, key: str) -> bytes:
        try:
            return bytes(
                self.client.get_object(Bucket=self.location.bucket, Key=key)["Body"].read()
            )
        except (BotoCoreError, ClientError) as exc:
            raise _unavailable(self.location, exc) from None

    def object_size(self, key: str) -> int | None:
        """The object's size, or None if there is none at ``key``."""
        try:
            head = self.client.head_object(Bucket=self.location.bucket, Key=key)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in _NOT_FOUND:
                return None
            raise _unavailable(self.location, exc) from None
        except BotoCoreError as exc:
            raise _unavailable(self.location, exc) from None
        return int(head["ContentLength"])

    def delete_keys(self, keys: list[str]) -> None:
        """Delete these objects (those already gone are no error)."""
        try:
            for start in range(0, len(keys), _DELETE_BATCH):
                batch = keys[start : start + _DELETE_BATCH]
                self.client.delete_objects(
                    Bucket=self.location.bucket,
                    Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True},
                )
        except (BotoCoreError, ClientError) as exc:
            raise _unavailable(self.location, exc) from None

    def list_objects(self, under: str) -> Iterator[StoredObject]:
        """Every object whose key starts with PREFIX/``under``, in key order."""
        prefix = self.location.key(under)
        if under.endswith("/") and not prefix.endswith("/"):
            prefix += "/"
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.location.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield StoredObject(item["Key"], int(item["Size"]), item["LastModified"])
        except (BotoCoreError, ClientError) as exc:
            raise _unavailable(self.location, exc) from None


def object_store_for(settings: Settings) -> S3Blobs:
    """The object store the settings name (they must name one)."""
    blobs = blobs_for(settings)
    if not isinstance(blobs, S3Blobs):
        raise TypeError(f"XUNCHA_PHOTOS_URL names no object store: {settings.photos_url!r}")
    return blobs
