"""One user's part of the phone's store: her drafts, outbox, history, reference data, photos' upload state.

A phone shared in a village office changes hands, so each user who signs in has her own
partition, ``users/<name>/`` in the store folder, holding every file of the store but the
device's own settings (``settings.json`` at the top: server address, language, who is
signed in now). Nothing of one partition is ever read while another user is signed in,
and nothing is deleted on sign-out: her drafts and unsent records wait in her partition
and are sent, under her name, when she signs in again.

The store folder itself is the partition of nobody in particular: a phone's folder from
before partitions (and a store used without signing in, as tests do) keeps its files
there until a user signs in; they are then moved into that user's partition
(``adopt_unowned``), file by file with ``os.replace``, so a kill part-way leaves every
file in one place or the other and the next start finishes the move.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from field_app.store.conflicts import ConflictDesk
from field_app.store.history import HistoryBook
from field_app.store.history_query import HistoryQuery
from field_app.store.photo_index import PhotoIndex
from field_app.store.recovery import RecoveryReport
from field_app.store.reference import ReferenceCache
from field_app.store.store_file import Shelf, StoreFile
from field_app.store.work import WorkItems
from xuncha_core.durable import fsync_folder, private_folder

USERS = "users"
# The files and folders of a partition (all but the device's settings.json).
PARTITION_FILES = ("work.json", "reviews.json", "conflicts.json", "reference.json")
PARTITION_FOLDERS = ("history", "history_index", "photo_meta")
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def folder_name(username: str) -> str:
    """The partition folder's name for a user: the username when it is a plain file name,
    else a hash of it (names are never mixed up, whatever characters they hold)."""
    if _PLAIN_NAME.fullmatch(username):
        return username
    return "u-" + hashlib.sha256(username.encode("utf-8")).hexdigest()[:32]


def partition_folder(root: Path | None, username: str | None) -> Path | None:
    if root is None or username is None:
        return root
    return root / USERS / folder_name(username)


@dataclass
class Partition:
    """The parts of one user's store; callers hold the store lock."""

    username: str | None
    folder: Path | None
    settings: StoreFile
    reviews: StoreFile
    reference: ReferenceCache
    history: HistoryBook
    work: WorkItems
    conflicts: ConflictDesk
    query: HistoryQuery
    photos: PhotoIndex

    @classmethod
    def open(
        cls, root: Path | None, username: str | None, report: RecoveryReport, device_settings: StoreFile
    ) -> Partition:
        """Open (creating it if new) the partition of ``username`` (None: the store folder's own)."""
        folder = partition_folder(root, username)
        if folder is not None:
            private_folder(folder)
        shelf = Shelf(folder, report)
        # the store folder's own partition shares the device's settings file (one file, one object)
        settings = device_settings if username is None else shelf.open("settings.json")
        reference = ReferenceCache(shelf)
        history = HistoryBook(shelf)
        work = WorkItems(shelf.open("work.json"), history)
        return cls(
            username=username,
            folder=folder,
            settings=settings,
            reviews=shelf.open("reviews.json"),
            reference=reference,
            history=history,
            work=work,
            conflicts=ConflictDesk(shelf.open("conflicts.json"), work, history),
            query=HistoryQuery(work, history, lambda: reference.topic("village")),
            photos=PhotoIndex(shelf),
        )

    def close(self) -> None:
        for f in (self.work.file, self.reviews, self.conflicts.file):
            f.close()
        if self.username is not None:
            self.settings.close()
        self.reference.close()
        self.history.close()
        self.photos.close()


def has_unowned_files(root: Path | None) -> bool:
    """Whether the store folder itself holds partition files (a folder from before
    partitions, or a move into a user's partition that a kill interrupted)."""
    if root is None:
        return False
    return any((root / name).exists() for name in (*PARTITION_FILES, *PARTITION_FOLDERS))


def move_unowned(root: Path, username: str) -> list[str]:
    """Move the store folder's partition files into ``username``'s partition; answers a note
    for each. A file already in the partition is never overwritten: the move of a folder
    goes file by file, and a name present on both sides keeps the partition's copy and
    leaves the other beside it as ``<name>.unowned``."""
    target = partition_folder(root, username)
    assert target is not None
    private_folder(target)
    notes = []
    for name in (*PARTITION_FILES, *PARTITION_FOLDERS):
        source = root / name
        if source.exists():
            _move(source, target / name)
            notes.append(f"{name} moved into the partition of {username}")
    fsync_folder(root)
    fsync_folder(target)
    return notes


def _move(source: Path, dest: Path) -> None:
    if source.is_dir():
        private_folder(dest)
        for child in sorted(source.iterdir()):
            _move(child, dest / child.name)
        source.rmdir()
        return
    if dest.exists():
        dest = dest.with_name(dest.name + ".unowned")
    os.replace(source, dest)
