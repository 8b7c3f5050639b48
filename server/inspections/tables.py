"""The random-inspection tables, on the one schema (created by migrations 4 and 5).

Entities and inspectors are reference data (``changes`` topics ``entity`` and
``inspector``, pulled by phones); the list of matters is the setting
``inspection_matters``. Conflicts of interest are private to the office, so they
live here and never in the feed. A draw is one row whose state moves
planned -> committed -> published; each step is one transaction with its ledger entry.
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, Index, Integer, PrimaryKeyConstraint, String, Table, Text

from server.infra.tables import metadata

conflicts = Table(
    "inspection_conflicts",
    metadata,
    Column("inspector", String(64), nullable=False),  # enforcement certificate number
    Column("entity", String(18), nullable=False),  # unified social credit code
    Column("kind", String(32), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("updated_by", String(64), nullable=False),
    Column("updated_at", String(40), nullable=False),
    PrimaryKeyConstraint("inspector", "entity"),
)

draws = Table(
    "inspection_draws",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("title", String(200), nullable=False),
    Column("state", String(16), nullable=False),  # planned, committed, published
    Column("plan", Text, nullable=False),  # JSON
    Column("inputs", Text),  # JSON: candidates, inspectors, recusals as committed
    Column("commitment", Text),  # JSON, with ledger_index
    Column("random_values", Text),  # JSON
    Column("file", Text),  # the published draw file, JSON
    Column("ledger_index", Integer),
    Column("created_by", String(64), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("committed_at", String(40)),
    Column("drawn_at", String(40)),
    Index("ix_inspection_draws_state", "state"),
)


# An inspector's PIN hash (xuncha_core.inspections.pin), set on their own phone: never the PIN.
pins = Table(
    "inspection_pins",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("pin_hash", Text, nullable=False),  # JSON PinHash
    Column("set_at", String(40), nullable=False),
)


def create(conn: Connection) -> None:
    """Migration 4: the random-inspection tables."""
    conflicts.create(conn)
    draws.create(conn)


def create_pins(conn: Connection) -> None:
    """Migration 5: inspectors' PIN hashes."""
    pins.create(conn)
