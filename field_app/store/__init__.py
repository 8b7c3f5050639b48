"""The field app's local store on TinyDB: crash-safe files, split so saves stay fast.

``LocalStore`` (local_store) is the one facade the screens and the sync code use;
``atomic_storage`` is the TinyDB storage that never leaves a half-written file;
``recovery`` cleans up and salvages at start; ``work`` (drafts and outbox),
``conflicts``, ``history`` (month files) with ``history_index`` and
``history_query`` (the history list), ``reference`` and ``photo_index`` each own
one part of the data. Only this package imports tinydb.
"""

from field_app.store.local_store import CHOICES, OUTBOX_STATES, LocalStore, StoreError
from field_app.store.recovery import MovedFile, RecoveryReport

__all__ = ["CHOICES", "OUTBOX_STATES", "LocalStore", "MovedFile", "RecoveryReport", "StoreError"]
