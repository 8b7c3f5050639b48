"""Sign-in, sign-out and switching user on a shared phone: which partition the store uses.

``UserSessions`` is part of ``LocalStore`` (a mixin over the store's lock, its device
settings and its partitions, ``field_app.store.partition``). The screens call:

    sign_in(server_url=, user=, device_id=, device_token=)   after the server enrolled the phone
    unsent_work()        {drafts, outbox, photos_pending} of the signed-in user (the dialog's facts)
    sign_out()           keeps all of hers, answers what is left waiting, signs her out
    signed_in_user()     who is signed in now (None: nobody)
    own_device_id(name)  the device id she had on this phone, to sign in again as that device

Sync calls ``sync_session()`` (a ``pinned()`` view with the address and token) at the start of a pass: the pass then reads and writes the partition
it started in, whoever signs in or out meanwhile.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from pathlib import Path
from typing import Any, Self

from field_app.store.inputs import StoreError, copy_json, invalid
from field_app.store.partition import Partition, has_unowned_files, move_unowned, partition_folder
from field_app.store.recovery import RecoveryReport
from field_app.store.store_file import Shelf, StoreFile

SETTINGS = "settings"
# Settings of the phone itself, the same whoever is signed in; the rest are the user's own.
DEVICE_KEYS = frozenset({"server_url", "language", "user", "device_id", "device_token"})
OWN_DEVICE = "own_device_id"


def username_of(user: Any) -> str | None:
    """The username in a stored ``user`` setting (the server's user object, or a bare name)."""
    if isinstance(user, dict):
        user = user.get("username")
    return user if isinstance(user, str) and user else None


class UserSessions:
    """Who is signed in, and the partition of each user who has been (see the module doc)."""

    folder: Path | None
    recovery_report: RecoveryReport
    _lock: threading.RLock
    _pinned: bool
    _device: StoreFile
    _partitions: dict[str | None, Partition]
    _p: Partition

    def _open_partition(self, username: str | None) -> Partition:
        if username not in self._partitions:
            p = Partition.open(self.folder, username, self.recovery_report, self._device)
            self._partitions[username] = p
            self._reconcile(p)
        return self._partitions[username]

    def _reconcile(self, p: Partition) -> None:
        raise NotImplementedError

    def photos_pending(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _adopt_unowned(self, username: str) -> None:
        """Move the store folder's own files (a folder from before partitions, or work done
        with nobody signed in) into ``username``'s partition, settings first."""
        unowned = self._partitions.pop(None, None)
        if unowned is not None:
            unowned.close()
        target = partition_folder(self.folder, username)
        own = Shelf(target, self.recovery_report).open("settings.json")
        moving = {k: v for k, v in self._device.items(SETTINGS) if k not in DEVICE_KEYS}
        with own.batch():
            for key, value in moving.items():
                own.put(SETTINGS, key, value)
        own.close()
        if self.folder is not None:
            self.recovery_report.reconciled.extend(move_unowned(self.folder, username))
        with self._device.batch():
            for key in moving:
                self._device.delete(SETTINGS, key)

    def _adopted_in_memory(self, unowned: Partition, username: str) -> Partition:
        """The memory twin of ``_adopt_unowned``: the store's own partition becomes hers."""
        own = StoreFile(None)
        for key, value in self._device.items(SETTINGS):
            if key not in DEVICE_KEYS:
                own.put(SETTINGS, key, value)
                self._device.delete(SETTINGS, key)
        return dataclasses.replace(unowned, username=username, settings=own)

    def pinned(self) -> Self:
        """A view of this store that keeps to the current user's partition, even after a
        sign-out or another user's sign-in (it cannot sign in or out itself)."""
        with self._lock:
            view = copy.copy(self)
            view._pinned = True
            return view

    def sync_session(self) -> tuple[Self, str | None, str | None]:
        """(a pinned view, server address, device token), read together: what one sync pass
        uses from start to end, whoever signs in or out meanwhile."""
        with self._lock:
            return self.pinned(), self._device.get(SETTINGS, "server_url"), self._device.get(SETTINGS, "device_token")

    @property
    def partition_user(self) -> str | None:
        """Whose partition this store (or pinned view) reads and writes; None: nobody's."""
        return self._p.username

    def sign_in(self, *, server_url: str, user: dict[str, Any], device_id: str, device_token: str) -> None:
        """Make ``user`` (the ``user`` object the server answers on enrollment) the one signed in:
        her partition becomes the store's, with what she left there (drafts, unsent records,
        history); the device token is stored last, so a kill part-way leaves the phone signed
        out. The device id is also kept in her partition (``own_device_id``)."""
        username = username_of(user)
        if username is None:
            raise invalid("user", "store.bad_user", "sign_in needs the user object with its username")
        with self._lock:
            self._refuse_if_pinned()
            self._switch_to(username)
            with self._device.batch():
                self._device.put(SETTINGS, "server_url", server_url)
                self._device.put(SETTINGS, "user", copy_json(user, "user"))
                self._device.put(SETTINGS, "device_id", device_id)
            self._p.settings.put(SETTINGS, OWN_DEVICE, device_id)
            self._device.put(SETTINGS, "device_token", device_token)

    def sign_out(self) -> dict[str, Any]:
        """Sign the user out of this phone, keeping everything of hers: answers what of hers
        is left waiting (``unsent_work``) with her ``username``. Her drafts and unsent records
        stay in her partition, unseen by whoever signs in next, and are sent under her name
        when she signs in again. The token goes first: a kill part-way leaves her signed out."""
        with self._lock:
            self._refuse_if_pinned()
            left = {"username": self._p.username, **self.unsent_work()}
            with self._device.batch():
                for key in ("device_token", "device_id", "user"):
                    self._device.delete(SETTINGS, key)
            self._switch_to(None)
            return left

    def unsent_work(self) -> dict[str, int]:
        """What the signed-in user has not sent yet: ``drafts``, ``outbox`` (submitted, not
        yet accepted: waiting, conflicts, refusals) and ``photos_pending``."""
        with self._lock:
            return {
                "drafts": self._p.work.draft_count(),
                "outbox": len(self._p.work.raw_outbox()),
                "photos_pending": len(self.photos_pending()),
            }

    def signed_in_user(self) -> str | None:
        """The username of whoever is signed in now (None: nobody)."""
        with self._lock:
            return username_of(self._device.get(SETTINGS, "user")) if self._device.get(SETTINGS, "device_token") else None

    def own_device_id(self, username: str) -> str | None:
        """The device id ``username`` last had on this phone (sent on sign-in, so that her
        unsent records, made under that device, are still hers to send)."""
        with self._lock:
            if username in self._partitions:
                return self._partitions[username].settings.get(SETTINGS, OWN_DEVICE)
            folder = partition_folder(self.folder, username)
            if folder is None or not (folder / "settings.json").exists():
                return None
            own = Shelf(folder, self.recovery_report).open("settings.json")
            try:
                return own.get(SETTINGS, OWN_DEVICE)
            finally:
                own.close()

    def _switch_to(self, username: str | None) -> None:
        self._refuse_if_pinned()
        if username == self._p.username:
            return
        if username is not None and has_unowned_files(self.folder):
            self._adopt_unowned(username)
        elif username is not None and self.folder is None and self._p.username is None and username not in self._partitions:
            self._partitions[username] = self._adopted_in_memory(self._partitions.pop(None), username)
        self._p = self._open_partition(username)

    def _refuse_if_pinned(self) -> None:
        if self._pinned:
            raise StoreError("store.pinned", "a pinned view of the store cannot sign in or out")

