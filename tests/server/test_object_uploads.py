"""Resumable uploads with the state in the database and the chunks in a real S3 store (issue 12):
a cut upload resumes through another engine (as another process would), sending again at
most one chunk; racing chunks are taken once; the photo is kept whole, checked, and the
upload leaves nothing behind."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from server.accounts.accounts import Actor, create_user
from server.infra import tables as t
from server.infra.db import make_engine, read
from server.infra.settings import Settings
from server.infra.writer import write
from server.photos import object_uploads as ou
from server.photos.blobs import open_blobs, photos_url
from server.photos.s3_store import S3Blobs
from server.photos.sweep import sweep
from tests.conftest import PHOTOS
from xuncha_core.errors import XunchaError

PHOTO = (PHOTOS / "mobile_jolla.jpg").read_bytes()  # 811 KB
DIGEST = hashlib.sha256(PHOTO).hexdigest()
CHUNK = 64 * 1024


@pytest.fixture
def blobs(s3_env: dict[str, str]) -> S3Blobs:
    store = open_blobs(photos_url(s3_env), folder=Path("unused"), env=s3_env)
    assert isinstance(store, S3Blobs)
    return store


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url)


@pytest.fixture
def actor(engine: Engine) -> Actor:
    user_id = write(engine, lambda conn: create_user(conn, username="wang", role="supervisor", password=None))
    return Actor(
        user_id=user_id, username="wang", display_name="wang", role="supervisor", device_id="d1"
    )


@pytest.fixture
def other_engine(database_url: str) -> Iterator[Engine]:
    """A second engine on the same database: what a second server process holds."""
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


def _send(
    engine: Engine, blobs: S3Blobs, settings: Settings, actor: Actor, start: int, data: bytes
) -> ou.UploadState:
    begun = ou.begin_append(
        engine, blobs, settings, sha256=DIGEST, offset=start, content_length=len(data), actor=actor
    )
    assert isinstance(begun, ou.ObjectAppend)
    begun.write(data)
    return begun.finish()


def _leftovers(engine: Engine, blobs: S3Blobs) -> tuple[list, list[str]]:
    with read(engine) as conn:
        rows = list(conn.execute(select(ou.upload_parts)))
        rows += list(conn.execute(select(t.uploads)))
    return rows, [o.key for o in blobs.list_objects("uploads/")]


def test_a_cut_upload_resumes_on_another_process_sending_again_only_the_unsent_part_of_one_chunk(
    engine: Engine, other_engine: Engine, blobs: S3Blobs, settings: Settings, actor: Actor
) -> None:
    state, created = ou.create(
        engine, blobs, settings, sha256=DIGEST, length=len(PHOTO), actor=actor
    )
    assert created and state.offset == 0
    for start in range(0, 3 * CHUNK, CHUNK):
        assert (
            _send(engine, blobs, settings, actor, start, PHOTO[start : start + CHUNK]).offset
            == start + CHUNK
        )
    # The fourth chunk is cut after 1000 bytes: what arrived is kept.
    cut = ou.begin_append(
        engine, blobs, settings, sha256=DIGEST, offset=3 * CHUNK, content_length=CHUNK, actor=actor
    )
    assert isinstance(cut, ou.ObjectAppend)
    cut.write(PHOTO[3 * CHUNK : 3 * CHUNK + 1000])
    cut.keep_partial()
    # The phone asks the other process where to go on, and finishes there.
    resumed_at = ou.status(other_engine, settings, sha256=DIGEST).offset
    assert resumed_at == 3 * CHUNK + 1000
    again, _ = ou.create(
        other_engine, blobs, settings, sha256=DIGEST, length=len(PHOTO), actor=actor
    )
    assert again.offset == resumed_at
    offset = resumed_at
    while offset < len(PHOTO):
        state = _send(other_engine, blobs, settings, actor, offset, PHOTO[offset : offset + CHUNK])
        offset = state.offset
    assert state.complete and state.receipt is not None and state.receipt.size == len(PHOTO)
    assert blobs.read(DIGEST) == PHOTO
    assert _leftovers(engine, blobs) == ([], [])
    report = sweep(engine, blobs)
    assert report.referenced == report.kept == 1 and report.unreferenced == report.missing == []


def test_a_chunk_sent_twice_at_once_to_two_processes_is_taken_once(
    engine: Engine, other_engine: Engine, blobs: S3Blobs, settings: Settings, actor: Actor
) -> None:
    ou.create(engine, blobs, settings, sha256=DIGEST, length=len(PHOTO), actor=actor)
    appends = [
        ou.begin_append(
            eng, blobs, settings, sha256=DIGEST, offset=0, content_length=CHUNK, actor=actor
        )
        for eng in (engine, other_engine)
    ]
    outcomes: list[object] = []
    gate = threading.Barrier(2)

    def send(append: object) -> None:
        assert isinstance(append, ou.ObjectAppend)
        append.write(PHOTO[:CHUNK])
        gate.wait()
        try:
            outcomes.append(append.finish().offset)
        except XunchaError as exc:
            outcomes.append((exc.code, exc.detail["offset"]))

    threads = [threading.Thread(target=send, args=(a,)) for a in appends]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(outcomes, key=str) == sorted([CHUNK, ("upload.offset_mismatch", CHUNK)], key=str)
    _rows, chunk_objects = _leftovers(engine, blobs)
    assert len(chunk_objects) == 1  # the loser's object was deleted, not left for the sweep


def test_a_chunk_at_the_wrong_offset_is_refused_with_the_offset_to_send_from(
    engine: Engine, blobs: S3Blobs, settings: Settings, actor: Actor
) -> None:
    ou.create(engine, blobs, settings, sha256=DIGEST, length=len(PHOTO), actor=actor)
    _send(engine, blobs, settings, actor, 0, PHOTO[:CHUNK])
    with pytest.raises(XunchaError) as replayed:
        _send(engine, blobs, settings, actor, 0, PHOTO[:CHUNK])  # its answer was lost; sent again
    assert (
        replayed.value.code == "upload.offset_mismatch" and replayed.value.detail["offset"] == CHUNK
    )
    with pytest.raises(XunchaError) as past:
        ou.begin_append(
            engine,
            blobs,
            settings,
            sha256=DIGEST,
            offset=CHUNK,
            content_length=len(PHOTO),
            actor=actor,
        )
    assert past.value.code == "upload.past_length"
    assert ou.status(engine, settings, sha256=DIGEST).offset == CHUNK


def test_bytes_that_are_not_the_photo_discard_the_upload_and_keep_nothing(
    engine: Engine, blobs: S3Blobs, settings: Settings, actor: Actor
) -> None:
    damaged = PHOTO[: len(PHOTO) // 2] + bytes(len(PHOTO) - len(PHOTO) // 2)
    ou.create(engine, blobs, settings, sha256=DIGEST, length=len(PHOTO), actor=actor)
    with pytest.raises(XunchaError) as refused:
        _send(engine, blobs, settings, actor, 0, damaged)
    assert refused.value.code == "photo.hash_mismatch" and refused.value.detail["upload_deleted"]
    assert not blobs.has(DIGEST)
    assert _leftovers(engine, blobs) == ([], [])


def test_a_new_length_starts_the_upload_over(
    engine: Engine, blobs: S3Blobs, settings: Settings, actor: Actor
) -> None:
    ou.create(engine, blobs, settings, sha256=DIGEST, length=len(PHOTO) + 5, actor=actor)
    _send(engine, blobs, settings, actor, 0, PHOTO[:CHUNK])
    state, created = ou.create(
        engine, blobs, settings, sha256=DIGEST, length=len(PHOTO), actor=actor
    )
    assert not created and (state.offset, state.length) == (0, len(PHOTO))
    assert _leftovers(engine, blobs)[1] == []


def test_a_photo_already_kept_answers_its_receipt_and_forgets_the_upload(
    engine: Engine, blobs: S3Blobs, settings: Settings, actor: Actor
) -> None:
    ou.create(engine, blobs, settings, sha256=DIGEST, length=len(PHOTO), actor=actor)
    done = _send(engine, blobs, settings, actor, 0, PHOTO)
    assert done.complete
    again, created = ou.create(
        engine, blobs, settings, sha256=DIGEST, length=len(PHOTO), actor=actor
    )
    assert again.complete and not created and again.receipt == done.receipt
    with read(engine) as conn:
        entries = [e for e in conn.execute(select(t.photos.c.sha256)).scalars()]
    assert entries == [DIGEST]


def test_an_abandoned_upload_expires_with_its_chunks_and_a_live_one_stays(
    engine: Engine, blobs: S3Blobs, settings: Settings, actor: Actor
) -> None:
    from datetime import UTC, datetime, timedelta

    other = hashlib.sha256(b"another photo").hexdigest()
    ou.create(engine, blobs, settings, sha256=DIGEST, length=len(PHOTO), actor=actor)
    _send(engine, blobs, settings, actor, 0, PHOTO[:CHUNK])
    later = datetime.now(UTC) + timedelta(days=settings.upload_expiry_days, hours=1)
    ou.create(engine, blobs, settings, sha256=other, length=1000, actor=actor, now=later)
    assert ou.sweep_expired(engine, blobs, settings, now=later) == [DIGEST]
    assert _leftovers(engine, blobs)[1] == []
    assert ou.status(engine, settings, sha256=other).length == 1000


@pytest.mark.parametrize("landing", ["before_head", "during_next_chunk", "after_next_chunk"])
@pytest.mark.parametrize(
    "cut_at",
    [3 * CHUNK + CHUNK // 2, 3 * CHUNK + 1, 4 * CHUNK - 1],
    ids=["mid_chunk", "just_after_a_boundary", "just_before_a_boundary"],
)
def test_after_a_cut_at_any_point_at_most_one_chunk_is_sent_again_whenever_the_cut_chunk_lands(
    engine: Engine,
    other_engine: Engine,
    blobs: S3Blobs,
    settings: Settings,
    actor: Actor,
    cut_at: int,
    landing: str,
) -> None:
    """The phone, cut, asks the other process where to go on and goes on from there, as
    ``field_app.sync.uploads`` does. What arrived of the cut chunk is stored by the first
    process before that answer, while the phone's next chunk is on its way, or after it:
    every byte the phone sends counts, and what it sends again is at most what it had sent of
    the cut chunk. (On a real link the phone has also handed the socket bytes that never
    arrived; only with this bound do those and these together stay within one chunk.)"""
    ou.create(engine, blobs, settings, sha256=DIGEST, length=len(PHOTO), actor=actor)
    sent = offset = 0
    while offset + CHUNK <= cut_at:
        offset = _send(engine, blobs, settings, actor, offset, PHOTO[offset : offset + CHUNK]).offset
        sent += CHUNK
    cut = ou.begin_append(
        engine, blobs, settings, sha256=DIGEST, offset=offset, content_length=CHUNK, actor=actor
    )
    assert isinstance(cut, ou.ObjectAppend)
    cut.write(PHOTO[offset:cut_at])
    sent += cut_at - offset
    sent_of_cut_chunk = cut_at - offset
    waiting = True
    if landing == "before_head":
        cut.keep_partial()
        waiting = False
    offset = ou.status(other_engine, settings, sha256=DIGEST).offset  # HEAD, on the other process
    state = None
    while state is None or not state.complete:
        body = PHOTO[offset : offset + CHUNK]
        sent += len(body)  # a refused PATCH's body goes out all the same (the server drains it)
        try:
            begun = ou.begin_append(
                other_engine, blobs, settings, sha256=DIGEST, offset=offset,
                content_length=len(body), actor=actor,
            )
            assert isinstance(begun, ou.ObjectAppend)
            begun.write(body)
            if waiting and landing == "during_next_chunk":
                cut.keep_partial()
                waiting = False
            state = begun.finish()
            offset = state.offset
        except XunchaError as exc:
            assert exc.code == "upload.offset_mismatch", exc.code
            offset = int(exc.detail["offset"])
        if waiting:  # after_next_chunk: the cut chunk lands last
            cut.keep_partial()
            waiting = False
    assert 0 <= sent - len(PHOTO) <= sent_of_cut_chunk <= CHUNK, (sent - len(PHOTO), sent_of_cut_chunk)
    assert state.receipt is not None and blobs.read(DIGEST) == PHOTO
    assert _leftovers(engine, blobs) == ([], [])
