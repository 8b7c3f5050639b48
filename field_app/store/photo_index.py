"""What the phone knows about its evidence photos: metadata and upload progress.

The photo files themselves are written by the photo pipeline, named by hash;
only their metadata is here, sharded by the first two hex digits of the SHA-256
(``photo_meta/ab.json``) so that recording an upload offset rewrites a small
file however many photos the phone has taken.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from field_app.store.store_file import Shelf, StoreFile
from xuncha_core.errors import Problem, ValidationError
from xuncha_core.records import SHA256_RE

TABLE = "photos"
SHARD_WRITERS = 8  # shard files written at once by ``put_many``


def check_sha(sha256: Any) -> str:
    if not isinstance(sha256, str) or not SHA256_RE.match(sha256):
        raise ValidationError.of(
            [Problem("sha256", "photo.bad_hash", "sha256 must be 64 lowercase hex digits")],
            code="photo.bad_hash",
        )
    return sha256


class PhotoIndex:
    """Photo metadata keyed by SHA-256; callers hold the store lock."""

    def __init__(self, shelf: Shelf) -> None:
        self._shelf = shelf
        self._shards: dict[str, StoreFile] = {}

    def _shard(self, sha256: str) -> StoreFile:
        name = sha256[:2]
        if name not in self._shards:
            self._shards[name] = self._shelf.open(f"photo_meta/{name}.json")
        return self._shards[name]

    def get(self, sha256: str) -> dict[str, Any] | None:
        return self._shard(check_sha(sha256)).get(TABLE, sha256)

    def put(self, meta: dict[str, Any]) -> dict[str, Any]:
        sha256 = check_sha(meta.get("sha256"))
        old = self.get(sha256) or {"uploaded": False, "offset": 0}
        merged = {**old, **meta}
        # Re-adding a photo never forgets that it was already uploaded.
        merged["uploaded"] = bool(old.get("uploaded") or meta.get("uploaded"))
        if merged != old:
            self._shard(sha256).put(TABLE, sha256, merged)
        return merged

    def put_many(self, metas: list[dict[str, Any]]) -> None:
        """``put`` for many photos: one atomic write per shard file touched, several at once.
        Each shard's write stands alone; a failure leaves the other shards' changes stored."""
        by_shard: dict[str, dict[str, dict[str, Any]]] = {}
        for meta in metas:
            sha256 = check_sha(meta.get("sha256"))
            changes = by_shard.setdefault(sha256[:2], {})
            old = changes.get(sha256) or self.get(sha256) or {"uploaded": False, "offset": 0}
            merged = {**old, **meta}
            merged["uploaded"] = bool(old.get("uploaded") or meta.get("uploaded"))
            if merged != old:
                changes[sha256] = merged
        writes = [(self._shard(next(iter(changes))), changes) for changes in by_shard.values() if changes]
        if len(writes) <= 1:
            for shard, changes in writes:
                shard.put_many(TABLE, changes)
            return
        # Each shard is its own file with its own atomic write: they wait on the disk together,
        # not one after another (a group of marks touches about as many shards as photos).
        with ThreadPoolExecutor(max_workers=min(SHARD_WRITERS, len(writes)), thread_name_prefix="xuncha-photo-meta") as pool:
            futures = [pool.submit(shard.put_many, TABLE, changes) for shard, changes in writes]
        for future in futures:
            future.result()  # the first failure, once every write has finished or failed

    def close(self) -> None:
        for shard in self._shards.values():
            shard.close()
