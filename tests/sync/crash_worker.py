"""Busy workstation for the sync crash test: certifies and syncs in a loop until killed.

    python tests/sync/crash_worker.py LOCAL_URL CENTRAL_URL WORKSTATION
"""

from __future__ import annotations

import os
import random
import sys
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("CERTDESK_MODE", "test")

from desktop.services.database import Database  # noqa: E402
from desktop.services.persons import PersonService  # noqa: E402
from desktop.services.sync import SyncService  # noqa: E402
from desktop.platform.workstation import Actor  # noqa: E402

local = Database.open(sys.argv[1])
sync = SyncService(local, sys.argv[2], sys.argv[3])
actor = Actor("crash-worker", sys.argv[3], "clerk")
people = PersonService(local)
ids = [p.id for p in people.search("测", limit=100)]
rng = random.Random(os.getpid())
print("ready", flush=True)
while True:
    for _ in range(rng.randint(1, 20)):
        people.record_certification(rng.choice(ids), date(2026, 11, 29) - timedelta(days=rng.randint(0, 300)),
                                    "counter", actor, today=date(2026, 11, 29))
    sync.sync_once()
