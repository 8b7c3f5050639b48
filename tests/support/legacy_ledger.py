"""A data folder as the server wrote it before ledger entries committed to their contents.

The schema comes from the shipped migration 1 alone. The rows are what the server of that
time wrote for a small town, entry for entry in its full-content form (the whole entry
hashed, and served to anyone): three users and their phones, an auditor, a photo, a
record in two revisions and a review sending it back. What the author's phone kept then
(envelopes and receipts, as that server answered them) comes back with the rest.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from server.accounts.accounts import hash_password
from server.infra import tables as t
from server.infra.db import make_engine
from server.infra.migrations import MIGRATIONS
from tests.support.databases import write
from tests.support.records import remediation_content
from xuncha_core.canonical import canonical_text
from xuncha_core.content import validate_content
from xuncha_core.merkle import leaf_hash, node_hash

AT = "2025-04-0{}T08:00:00.000000+00:00"
PASSWORD = "password-123"
PERSONAL = ("王春燕", "冉德明", "周海波", "wang.cy", "ran.dm", "zhou.hb", "audit.qj", "50011420190031",
            "王春燕的手机", "村口垃圾桶满溢", "照片看不清，请补拍")


@dataclass
class LegacyTown:
    tokens: dict[str, str] = field(default_factory=dict)  # username -> device token
    devices: dict[str, str] = field(default_factory=dict)  # username -> device id
    texts: list[str] = field(default_factory=list)  # every entry's text, as hashed
    envelopes: list[dict[str, Any]] = field(default_factory=list)  # wang's record, revisions 1 and 2
    receipts: list[dict[str, Any]] = field(default_factory=list)  # what wang's phone kept for them
    photo: str = ""
    review_index: int = -1

    @property
    def leaves(self) -> list[bytes]:
        return [leaf_hash(text.encode("utf-8")) for text in self.texts]


def write_legacy_town(data_dir: Path, database_url: str, photo: bytes) -> LegacyTown:
    """Make the database at schema 1 and fill it as the old server would have."""
    engine = make_engine(database_url)
    town = LegacyTown()
    try:
        with write(engine) as conn:
            t.schema_migrations.create(conn)
            version, name, initial = MIGRATIONS[0]
            assert version == 1
            initial(conn)
            conn.execute(t.schema_migrations.insert().values(version=1, name=name, applied_at=AT.format(1)))
        with write(engine) as conn:
            _people(conn, town)
            _photo(conn, town, data_dir, photo)
            _record(conn, town)
            _review(conn, town)
            _tree(conn, town)
    finally:
        engine.dispose()
    return town


def _append(conn: Connection, town: LegacyTown, entry: dict[str, Any]) -> int:
    index = len(town.texts)
    text = canonical_text(entry)
    town.texts.append(text)
    conn.execute(t.ledger_entries.insert().values(
        idx=index, entry=text, leaf_hash=leaf_hash(text.encode("utf-8")), created_at=AT.format(1)))
    return index


def _people(conn: Connection, town: LegacyTown) -> None:
    people = [("wang.cy", "王春燕", "supervisor", None), ("ran.dm", "冉德明", "supervisor", None),
              ("zhou.hb", "周海波", "office_reviewer", None), ("audit.qj", "区审计局 审计", "auditor", "50011420190031")]
    for user_id, (username, display_name, role, cert_no) in enumerate(people, 1):
        conn.execute(t.users.insert().values(
            id=user_id, username=username, display_name=display_name, role=role, password_hash=hash_password(PASSWORD),
            cert_no=cert_no, unit=None, active=True, created_at=AT.format(1)))
        _append(conn, town, {"type": "user.created", "username": username, "display_name": display_name,
                             "role": role, "cert_no": cert_no, "by": "cli", "at": AT.format(1)})
    for user_id, (username, display_name, _role, _cert) in enumerate(people, 1):
        device_id, token = str(uuid.uuid4()), f"legacy-token-{username}-{uuid.uuid4().hex}"
        name = f"{display_name}的手机"
        conn.execute(t.devices.insert().values(
            id=device_id, user_id=user_id, name=name, kind="phone",
            token_hash=hashlib.sha256(token.encode()).hexdigest(), created_at=AT.format(2)))
        _append(conn, town, {"type": "device.enrolled", "device_id": device_id, "username": username, "name": name,
                             "kind": "phone", "via": "password", "at": AT.format(2)})
        town.tokens[username], town.devices[username] = token, device_id


def _photo(conn: Connection, town: LegacyTown, data_dir: Path, data: bytes) -> None:
    sha = hashlib.sha256(data).hexdigest()
    (data_dir / "photos" / sha[:2]).mkdir(parents=True, exist_ok=True)
    (data_dir / "photos" / sha[:2] / sha).write_bytes(data)
    facts = {"sha256": sha, "size": len(data), "mime": "image/jpeg", "width": 640, "height": 480,
             "uploaded_by": "wang.cy", "received_at": AT.format(3)}
    index = _append(conn, town, {"type": "photo.received", **facts})
    leaf = leaf_hash(town.texts[index].encode()).hex()
    conn.execute(t.photos.insert().values(**facts, ledger_index=index, leaf_hash=leaf))
    town.photo = sha


def _record(conn: Connection, town: LegacyTown) -> None:
    device_id = town.devices["wang.cy"]
    record_id = str(uuid.uuid4())
    for revision in (1, 2):
        # As the old phone wrote it: a later revision named its base by number only.
        envelope = {
            "record_id": record_id, "kind": "remediation_check", "revision": revision,
            "base_revision": None if revision == 1 else 1, "author": "wang.cy", "device_id": device_id,
            "device_time": "2025-04-04T09:30:00+08:00", "gps_time": None,
            "content": remediation_content(recorder="王春燕", note="村口垃圾桶满溢"), "photos": [town.photo],
        }
        assert not validate_content(envelope["kind"], envelope["content"])
        text = canonical_text(envelope)
        digest = hashlib.sha256(text.encode()).hexdigest()
        received_at = AT.format(3 + revision)
        index = _append(conn, town, {"type": "record.accepted", "record": envelope, "digest": digest,
                                     "received_at": received_at})
        leaf = leaf_hash(town.texts[index].encode()).hex()
        conn.execute(t.record_revisions.insert().values(
            record_id=record_id, revision=revision, base_revision=envelope["base_revision"], kind=envelope["kind"],
            author="wang.cy", device_id=device_id, device_time=envelope["device_time"], gps_time=None,
            received_at=received_at, envelope=text, digest=digest, ledger_index=index, leaf_hash=leaf))
        conn.execute(t.record_photos.insert().values(record_id=record_id, revision=revision, sha256=town.photo))
        town.envelopes.append(envelope)
        town.receipts.append({"record_id": record_id, "revision": revision, "digest": digest,
                              "received_at": received_at, "ledger_index": index, "leaf_hash": leaf,
                              "photos_missing": [], "replayed": False})
    conn.execute(t.records.insert().values(
        record_id=record_id, kind="remediation_check", head_revision=2, author="wang.cy", village_id="v-lianhe",
        month="2025-05", first_received_at=AT.format(4), updated_at=AT.format(5), review_state="submitted"))


def _review(conn: Connection, town: LegacyTown) -> None:
    record_id = town.envelopes[0]["record_id"]
    review = {"record_id": record_id, "revision": 2, "action": "send_back", "reason": "照片看不清，请补拍",
              "reviewer": "zhou.hb", "at": AT.format(6)}
    town.review_index = _append(conn, town, {"type": "review.recorded", **review})
    conn.execute(t.reviews.insert().values(
        record_id=record_id, revision=2, action="send_back", reason=review["reason"], reviewer="zhou.hb",
        created_at=review["at"], ledger_index=town.review_index))
    conn.execute(t.records.update().where(t.records.c.record_id == record_id).values(review_state="sent_back"))


def _tree(conn: Connection, town: LegacyTown) -> None:
    """Every complete aligned subtree's hash, as the old append stored them."""
    level, rows, height = town.leaves, [], 0
    while level:
        rows += [{"level": height, "pos": p, "hash": h} for p, h in enumerate(level)]
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        height += 1
    conn.execute(t.ledger_nodes.insert(), rows)
