"""Fixtures for the server's tests: a real S3 store (SeaweedFS) shared by the session."""

from __future__ import annotations

from tests.support.object_store import s3_env, s3_server

__all__ = ["s3_env", "s3_server"]
