"""Enrolled workstations against a central PostgreSQL with TLS and the authority layer (issue 15)."""

from __future__ import annotations

import shutil
from pathlib import Path

from desktop.services import central
from desktop.services.database import Database
from desktop.services.sync import SyncService
from desktop.platform.workstation import Actor

ADMIN = Actor("admin", "it-desk", "admin")


class Device:
    """A workstation database enrolled at the centre, syncing as its own role over TLS."""

    def __init__(self, path: Path, central_url: str, ca_file, *, enrol: bool = True, name: str | None = None):
        self.path = path
        self.central_url = central_url
        self.ca_file = str(ca_file)
        self.db = Database.open(f"sqlite:///{path}")
        self.enrolment = None
        if enrol:
            self.enrolment = central.enrol(self.db, central_url, ADMIN, name=name, ca_file=self.ca_file)
        self._sync: SyncService | None = None

    @property
    def device_id(self) -> str:
        return central.identity(self.db).device_id

    @property
    def actor(self) -> Actor:
        return Actor("clerk1", self.device_id, "clerk")

    @property
    def sync(self) -> SyncService:
        if self._sync is None:
            ident = central.identity(self.db)
            url = self.enrolment.central if self.enrolment else self.central_url
            self._sync = SyncService(self.db, url, ca_file=self.ca_file) if ident else None
        return self._sync

    def sync_once(self):
        return self.sync.sync_once()

    def clone_to(self, path: Path) -> "Device":
        """What IT does with a disk image: the same database (and key store) on a second PC."""
        self.db.dispose()
        for suffix in ("", "-wal", "-shm"):
            src = Path(str(self.path) + suffix)
            if src.exists():
                shutil.copyfile(src, str(path) + suffix)
        twin = Device(path, self.central_url, self.ca_file, enrol=False)
        twin.enrolment = self.enrolment
        return twin

    def close(self) -> None:
        if self._sync is not None:
            self._sync.close()
        self.db.dispose()
