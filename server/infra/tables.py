"""The schema, as SQLAlchemy Core tables (shared by SQLite and PostgreSQL).

Migrations (``server.infra.migrations``) create and change these; code reads and
writes them only through the domain modules. Times are ISO 8601 UTC strings
stamped by the server. Hashes are lowercase hex.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

metadata = MetaData()

schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("applied_at", String(40), nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(100), nullable=False),
    # supervisor, officer, office_reviewer, legal_reviewer, admin, auditor
    Column("role", String(32), nullable=False),
    Column("password_hash", String(200)),  # argon2id; null: enrollment code only
    Column("cert_no", String(64)),  # 执法证 number, for officers
    Column("unit", String(100)),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", String(40), nullable=False),
)

devices = Table(
    "devices",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("kind", String(16), nullable=False),  # phone, browser, cli
    Column("token_hash", String(64), nullable=False, unique=True),  # SHA-256 of a 256-bit token
    Column("created_at", String(40), nullable=False),
    Column("last_seen_at", String(40)),
    Column("revoked_at", String(40)),
    Column("revoked_reason", String(200)),
)

enrollment_codes = Table(
    "enrollment_codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("created_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("expires_at", String(40), nullable=False),
    Column("used_at", String(40)),
    Column("used_device_id", String(36)),
)

# Every accepted revision of every record, exactly as received.
record_revisions = Table(
    "record_revisions",
    metadata,
    Column("record_id", String(36), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("base_revision", Integer),
    Column("kind", String(32), nullable=False),
    Column("author", String(128), nullable=False),
    Column("device_id", String(128), nullable=False),
    Column("device_time", String(40), nullable=False),
    Column("gps_time", String(40)),
    Column("received_at", String(40), nullable=False),
    Column("envelope", Text, nullable=False),  # canonical JSON of the envelope
    Column("digest", String(64), nullable=False),  # SHA-256 of the canonical envelope
    Column("ledger_index", BigInteger, nullable=False),
    Column("leaf_hash", String(64), nullable=False),
    PrimaryKeyConstraint("record_id", "revision"),
)

# One row per record: its latest revision and where it stands in review.
records = Table(
    "records",
    metadata,
    Column("record_id", String(36), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("head_revision", Integer, nullable=False),
    Column("author", String(128), nullable=False),
    Column("village_id", String(64)),
    Column("month", String(7)),
    Column("first_received_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
    # submitted, approved, sent_back, rejected
    Column("review_state", String(16), nullable=False, default="submitted"),
    Index("ix_records_author", "author"),
    Index("ix_records_village_month", "village_id", "month"),
)

# Which photos each revision refers to (to tell "photos pending" and for audit export).
record_photos = Table(
    "record_photos",
    metadata,
    Column("record_id", String(36), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    PrimaryKeyConstraint("record_id", "revision", "sha256"),
    Index("ix_record_photos_sha", "sha256"),
)

photos = Table(
    "photos",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("mime", String(32), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("uploaded_by", String(64), nullable=False),
    Column("received_at", String(40), nullable=False),
    Column("ledger_index", BigInteger, nullable=False),
    Column("leaf_hash", String(64), nullable=False),
)

# Resumable uploads in progress (tus-style); bytes live in data/uploads/<sha256>.part
uploads = Table(
    "uploads",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("length", BigInteger, nullable=False),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("created_at", String(40), nullable=False),
)

reviews = Table(
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("record_id", String(36), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("action", String(16), nullable=False),  # approve, send_back, reject
    Column("reason", Text),
    Column("reviewer", String(64), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("ledger_index", BigInteger, nullable=False),
    Index("ix_reviews_record", "record_id"),
)

# The append-only ledger (RFC 9162 leaves). Triggers refuse UPDATE and DELETE.
ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("entry", Text, nullable=False),  # the exact canonical JSON text that was hashed
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Column("created_at", String(40), nullable=False),
)

# What each ledger entry commits to, kept beside the ledger for those who may read it
# (xuncha_core.ledger_entries): the public sees only the committed form. Triggers refuse
# UPDATE and DELETE. A legacy entry (written before commitments) holds its content in its
# own text; its row repeats that text, with no salt.
ledger_contents = Table(
    "ledger_contents",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),  # the entry's index
    Column("type", String(40), nullable=False),
    Column("record_id", String(36)),  # the record a record.accepted or review.recorded entry is about
    Column("content", Text, nullable=False),  # canonical JSON
    Column("salt", String(32)),  # lowercase hex; null for unsalted types and legacy entries
    Column("legacy", Boolean, nullable=False),
    Index("ix_ledger_contents_record", "record_id"),
)

# Hashes of every complete, aligned subtree: level L, position P covers
# leaves [P * 2**L, (P + 1) * 2**L). Level 0 repeats the leaf hashes.
ledger_nodes = Table(
    "ledger_nodes",
    metadata,
    Column("level", Integer, nullable=False),
    Column("pos", BigInteger, nullable=False),
    Column("hash", LargeBinary(32), nullable=False),
    PrimaryKeyConstraint("level", "pos"),
)

# The pull feed: reference data and review decisions, by a server sequence.
# audience null: every signed-in device; otherwise only that username.
changes = Table(
    "changes",
    metadata,
    Column("seq", Integer, primary_key=True),
    # village, scoring_sheet, cleaner, entity, inspector, task, review, setting
    Column("topic", String(32), nullable=False),
    Column("key", String(128), nullable=False),
    Column("audience", String(64)),
    Column("payload", Text),  # JSON; null with deleted=True is a tombstone
    Column("deleted", Boolean, nullable=False, default=False),
    Column("created_at", String(40), nullable=False),
    Index("ix_changes_topic_key", "topic", "key"),
)

# Failed sign-ins and enrollments, per key ("account:<username>", "address:<ip or /64>"),
# so back-off survives a restart and binds every server process (see server.accounts.throttle).
sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failed_at", String(40), nullable=False),
    Index("ix_sign_in_failures_last", "last_failed_at"),
)
