"""The photo store against the database: what is stored but not referenced, and the reverse.

A photo is stored first and referenced (its ``photos`` row and ledger entry) second, so a
crash between the two leaves an unreferenced photo: harmless (the same bytes come again
under the same name) and reported here, never deleted, since a request may be about to
reference it. A row whose photo the store lacks should never happen; it is reported as
``missing`` so an operator restores it from a backup. Upload chunks in an object store that
no ``upload_parts`` row names (a process killed between storing and referencing one) are
reported too, and deleted with ``delete_stray_chunks`` once older than ``grace``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from server.infra import tables as t
from server.infra.db import read
from server.photos.blobs import PhotoBlobs
from server.photos.s3_store import S3Blobs


@dataclass
class SweepReport:
    store: str
    kept: int = 0
    referenced: int = 0
    unreferenced: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    stray_chunks: list[str] = field(default_factory=list)
    deleted_chunks: list[str] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        return not self.missing

    def as_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "kept": self.kept,
            "referenced": self.referenced,
            "unreferenced": self.unreferenced,
            "missing": self.missing,
            "stray_chunks": self.stray_chunks,
            "deleted_chunks": self.deleted_chunks,
            "consistent": self.consistent,
        }


def sweep(
    engine: Engine,
    blobs: PhotoBlobs,
    *,
    delete_stray_chunks: bool = False,
    grace: timedelta = timedelta(hours=1),
    now: datetime | None = None,
) -> SweepReport:
    """Compare the store with the database (see the module doc); reads only, unless asked
    to delete stray upload chunks older than ``grace``."""
    report = SweepReport(store=blobs.describe())
    stored = set(blobs.names())
    with read(engine) as conn:
        rows = set(conn.execute(select(t.photos.c.sha256)).scalars())
    report.kept, report.referenced = len(stored), len(rows)
    report.unreferenced = sorted(stored - rows)
    report.missing = sorted(rows - stored)
    if isinstance(blobs, S3Blobs):
        _stray_chunks(
            engine,
            blobs,
            report,
            delete=delete_stray_chunks,
            before=(now or datetime.now(UTC)) - grace,
        )
    return report


def _stray_chunks(
    engine: Engine, blobs: S3Blobs, report: SweepReport, *, delete: bool, before: datetime
) -> None:
    from server.photos.object_uploads import upload_parts

    objects = list(blobs.list_objects("uploads/"))
    with read(engine) as conn:
        referenced = set(conn.execute(select(upload_parts.c.object_key)).scalars())
    strays = [o for o in objects if o.key not in referenced]
    report.stray_chunks = [o.key for o in strays]
    if delete:
        old = [o.key for o in strays if o.modified < before]
        blobs.delete_keys(old)
        report.deleted_chunks = old
