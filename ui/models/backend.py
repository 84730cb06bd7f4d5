"""What the pages are given: the services and the business date, built by ``ui.app``.

Pages call these services only through :func:`ui.workers.run_in_background`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Backend:
    persons: Any  # desktop.services.persons.PersonService
    lists: Any  # desktop.services.lists.ListService
    as_of: date  # the business date ("today", or --as-of for reproducible screens)
    demo: bool = False
    location: str = ""  # where the data lives, for the status bar
    services: Any = None  # desktop.services.hub.Services: every other service, built lazily
    sync: Any = None  # desktop.services.sync.SyncService, or None without a central database
    counter_kit: Any = None  # ui.counter_kit.CounterKit: reader, camera, face check, printer (built by ui.app)
