"""What the public ledger API answers: the shapes of its JSON bodies (its routes'
``response_model``s). Hashes are lowercase hex; the signed checkpoint is
``xuncha_core.checkpoint.CheckpointJson``."""

from __future__ import annotations

from typing import Any, TypedDict


class Entry(TypedDict):
    index: int
    entry: str | None  # the committed form's canonical JSON; null for a legacy entry (withheld)
    leaf_hash: str


class EntryContent(TypedDict):
    """What an entry commits to, with its salt: for those who may read it."""

    index: int
    entry: str  # the exact text that was hashed
    leaf_hash: str
    content: Any
    salt: str | None
    legacy: bool


class InclusionProof(TypedDict):
    index: int
    size: int
    hashes: list[str]


class ConsistencyProof(TypedDict):
    first: int
    second: int
    hashes: list[str]
