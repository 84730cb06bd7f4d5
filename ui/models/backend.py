"""What the pages are given: the services, the station and the business date, built by the
composition root (``ui.app``). Pages call the services only through :func:`ui.workers.run_in_background`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types only: building the window must not import the services (tests/ui/test_startup_imports.py)
    from desktop.counter.station import Station, StartupInfo
    from desktop.services.hub import Services
    from desktop.services.lists import ListService
    from desktop.services.persons import PersonService
    from desktop.services.sync import SyncService


@dataclass(frozen=True)
class Backend:
    persons: PersonService
    lists: ListService
    as_of: date  # the business date ("today", or --as-of for reproducible screens)
    demo: bool = False
    location: str = ""  # where the data lives, for the status bar
    services: Services | None = None  # every service of the open database, built lazily
    sync: SyncService | None = None  # None without a central database (and always in demo/training)
    station: Station | None = None  # the counter's reader, camera, face check and printer (GUI thread builds it)
    startup: StartupInfo | None = None  # what the start-up worker prepared (accounts, demo cards)

    @property
    def training(self) -> bool:
        return bool((self.station is not None and self.station.training)
                    or (self.startup is not None and self.startup.training))
