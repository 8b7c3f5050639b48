"""Ledger entry forms (``xuncha_core.ledger_entries``) and the record receipt check the phone runs
(``xuncha_core.record_receipts``): pure rules, no server."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pytest

from xuncha_core import ledger_entries as le
from xuncha_core.canonical import canonical_bytes, canonical_text
from xuncha_core.errors import IntegrityError
from xuncha_core.merkle import leaf_hash
from xuncha_core.record_receipts import check_entry, envelope_digest

AT = "2025-05-14T01:30:00.000000+00:00"


def _envelope(revision: int = 1) -> dict[str, Any]:
    return {
        "record_id": "3f0e8d4c-1111-4a2b-9c3d-5e6f7a8b9c0d", "kind": "remediation_check", "revision": revision,
        "base_revision": None if revision == 1 else revision - 1, "author": "wang.cy",
        "device_id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d", "device_time": "2025-05-14T09:30:00+08:00",
        "gps_time": None, "content": {"recorder": "王春燕", "note": "村口垃圾桶满溢"}, "photos": [],
    }


def _every_type() -> list[tuple[le.NewEntry, tuple[str, ...]]]:
    """One entry of each type, with the personal data it must not publish."""
    device = str(uuid.uuid4())
    return [
        (le.record_accepted(envelope=_envelope(), received_at=AT), ("wang.cy", "王春燕", "村口", "9a1b2c3d")),
        (le.review_recorded(record_id="r-1", revision=2, action="send_back", reason="照片看不清", reviewer="zhou.hb", at=AT),
         ("send_back", "照片看不清", "zhou.hb")),
        (le.photo_received(sha256="ab" * 32, size=1000, mime="image/jpeg", width=4, height=3, uploaded_by="wang.cy",
                           received_at=AT), ("wang.cy",)),
        (le.user_created(username="xiang.j", display_name="向军", role="officer", cert_no="50011420190031", by="admin",
                         at=AT), ("xiang.j", "向军", "50011420190031", "admin")),
        (le.device_enrolled(device_id=device, username="xiang.j", name="向军的手机", kind="phone", via="code", at=AT),
         (device, "xiang.j", "向军的手机")),
        (le.device_revoked(device_id=device, reason="手机丢失", by="admin", at=AT), (device, "手机丢失", "admin")),
        (le.enrollment_code_issued(username="xiang.j", by="zhou.hb", expires_at=AT, at=AT), ("xiang.j", "zhou.hb")),
        (le.reference_changed(topic="cleaner", key="c-lin-e-01", payload={"name": "向秀英"}, by="admin", at=AT),
         ("c-lin-e-01", "向秀英", "admin")),
        (le.draw_committed(draw_id="2026-03-02-ab12cd34", commitment_body={"plan": {"title": "抽查"}}, at=AT), ()),
        (le.draw_published(draw_id="2026-03-02-ab12cd34", file={"format": "xuncha-draw/1"}, at=AT), ()),
        (le.conflict_changed(inspector="50011420190031", entity="92500114D4F6H8J24T", kind="relative",
                             note="表弟经营该超市", by="zhou.hb", at=AT),
         ("50011420190031", "92500114D4F6H8J24T", "relative", "表弟", "zhou.hb")),
        (le.pin_changed(username="li.m", at=AT), ("li.m",)),
    ]


def test_every_type_publishes_its_public_fields_and_a_digest_and_nothing_personal() -> None:
    built = _every_type()
    assert {e.type for e, _ in built} == set(le.TYPES)
    for entry, personal in built:
        text = canonical_text(entry.committed)
        assert set(entry.committed) == {"type", "digest", *le.TYPES[entry.type].public}
        assert [p for p in personal if p in text] == [], entry.type
        assert le.parse(text) == entry.committed
        le.check_content(text, entry.content, entry.salt)
        assert entry.content_text == canonical_text(entry.content)


def test_the_same_low_entropy_content_commits_to_a_different_digest_each_time() -> None:
    one, two = (le.device_revoked(device_id="d", reason="lost", by="admin", at=AT) for _ in range(2))
    assert one.content == two.content and one.salt != two.salt
    assert one.committed["digest"] != two.committed["digest"]
    guess = hashlib.sha256(canonical_bytes(one.content)).hexdigest()
    assert guess != one.committed["digest"]  # hashing a guess of the content confirms nothing
    expected = hashlib.sha256(canonical_bytes({"content": one.content, "salt": one.salt})).hexdigest()
    assert one.committed["digest"] == expected


def test_a_record_entry_commits_to_the_envelope_digest_its_receipt_carries() -> None:
    envelope = _envelope()
    entry = le.record_accepted(envelope=envelope, received_at=AT)
    assert entry.salt is None and entry.record_id == envelope["record_id"]
    assert entry.committed["digest"] == envelope_digest(envelope) == hashlib.sha256(canonical_bytes(envelope)).hexdigest()
    assert entry.committed["record"] == {"record_id": envelope["record_id"], "revision": 1}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda c, s: ({**c, "reason": "手机被盗"}, s), "ledger.content_mismatch"),
        (lambda c, s: (c, ("0" if s[0] != "0" else "1") + s[1:]), "ledger.content_mismatch"),
        (lambda c, s: (c, None), "ledger.salt_invalid"),
        (lambda c, s: (c, s.upper()), "ledger.salt_invalid"),
        (lambda c, s: ({**c, "x": float("nan")}, s), "ledger.content_malformed"),
    ],
    ids=["content", "salt", "no salt", "salt not lowercase hex", "content not JSON"],
)
def test_check_content_refuses_a_changed_content_or_salt(change: Any, code: str) -> None:
    entry = le.device_revoked(device_id="d", reason="lost", by="admin", at=AT, salt="5a" * 16)
    content, salt = change(entry.content, entry.salt)
    with pytest.raises(IntegrityError) as caught:
        le.check_content(canonical_text(entry.committed), content, salt)
    assert caught.value.code == code and caught.value.message_zh


def test_contents_whose_canonical_form_differs_from_plain_json_still_check() -> None:
    """Fractions, large exponents and keys outside the BMP: RFC 8785 writes them differently
    from ``json.dumps``, so the check canonicalises them itself."""
    payload = {"ratio": 1.0, "big": 1e21, "tiny": 1e-7, "\U0001f600": 1, "\uff61": 2, "village": "石门村"}
    entry = le.reference_changed(topic="setting", key="k", payload=payload, by="admin", at=AT)
    le.check_content(entry.committed, entry.content, entry.salt)
    with pytest.raises(IntegrityError) as caught:
        le.check_content(entry.committed, {**entry.content, "payload": {**payload, "ratio": 1.5}}, entry.salt)
    assert caught.value.code == "ledger.content_mismatch"


def test_a_record_entry_refuses_a_salt_another_envelope_and_another_record_id() -> None:
    envelope = _envelope()
    entry = le.record_accepted(envelope=envelope, received_at=AT)
    le.check_content(entry.committed, envelope, None)
    for content, salt in ((envelope, "0" * 32), (_envelope(2), None)):
        with pytest.raises(IntegrityError):
            le.check_content(entry.committed, content, salt)
    renamed = {**entry.committed, "record": {"record_id": str(uuid.uuid4()), "revision": 1}}
    with pytest.raises(IntegrityError, match="not the record and revision"):
        le.check_content(renamed, envelope, None)


def test_parse_tells_a_committed_form_from_a_legacy_entry_and_refuses_anything_else() -> None:
    envelope = _envelope()
    legacy = le.legacy_record_accepted(envelope, digest=envelope_digest(envelope), received_at=AT)
    assert le.parse(legacy) is None
    assert le.parse({"type": "user.created", "username": "wang.cy", "role": "admin", "at": AT}) is None
    for bad in ("[1]", "not json", '{"type": "test.entry"}', '{"n": 1}', {"type": ["record.accepted"]}):
        with pytest.raises(IntegrityError) as caught:
            le.parse(bad)
        assert caught.value.code == "ledger.entry_malformed"
    with pytest.raises(IntegrityError):
        le.parse({"type": "device.revoked", "at": AT, "digest": "XYZ"})
    with pytest.raises(IntegrityError) as caught:
        le.check_content(legacy, envelope, None)
    assert caught.value.code == "ledger.not_committed"


# -- the record receipt, as the phone checks it -------------------------------------------


def _receipt(entry_text: str, envelope: dict[str, Any], index: int = 7) -> dict[str, Any]:
    return {"record_id": envelope["record_id"], "revision": envelope["revision"], "digest": envelope_digest(envelope),
            "received_at": AT, "ledger_index": index, "leaf_hash": leaf_hash(entry_text.encode()).hex()}


def test_a_receipt_checks_against_the_committed_entry_and_the_envelope_the_phone_holds() -> None:
    envelope = _envelope()
    text = canonical_text(le.record_accepted(envelope=envelope, received_at=AT).committed)
    receipt = _receipt(text, envelope)
    check_entry(text, receipt, envelope)
    check_entry(text, receipt, None)
    failures = {
        "receipt.leaf_mismatch": (text.replace(AT, AT.replace("01:30", "01:31")), receipt, envelope),
        "receipt.entry_mismatch": (text, {**receipt, "revision": 2}, None),
    }
    for code, (served, held, env) in failures.items():
        with pytest.raises(IntegrityError) as caught:
            check_entry(served, held, env)
        assert caught.value.code == code and caught.value.message_zh
    with pytest.raises(IntegrityError) as caught:
        check_entry(text, receipt, {**envelope, "content": {"recorder": "冉德明"}})
    assert caught.value.code == "receipt.entry_mismatch"


def test_a_withheld_legacy_entry_is_rebuilt_from_the_envelope_the_phone_holds() -> None:
    envelope = _envelope()
    legacy = le.legacy_record_accepted(envelope, digest=envelope_digest(envelope), received_at=AT)
    receipt = _receipt(legacy, envelope)
    check_entry(None, receipt, envelope)
    check_entry(legacy, receipt, envelope)  # a server that still serves the whole text
    with pytest.raises(IntegrityError) as caught:
        check_entry(None, receipt, None)
    assert caught.value.code == "receipt.entry_withheld"
    with pytest.raises(IntegrityError) as caught:
        check_entry(None, {**receipt, "received_at": "2025-05-15T00:00:00+00:00"}, envelope)
    assert caught.value.code == "receipt.entry_mismatch"
