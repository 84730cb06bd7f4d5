"""Busy worker for the crash tests: certifies and imports in a loop until it is killed.

    python tests/crash/worker.py DB_URL ROSTER_CSV
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
from desktop.services.imports import ImportService  # noqa: E402
from desktop.services.persons import PersonService  # noqa: E402
from desktop.workstation import Actor  # noqa: E402

db = Database.open(sys.argv[1])
roster = Path(sys.argv[2])
actor = Actor("crash-worker", "ws-crash", "supervisor")
people = PersonService(db)
rng = random.Random(os.getpid())
ids = [p.id for p in people.search("测", limit=500)]
print("ready", flush=True)
while True:
    if rng.random() < 0.15:
        ImportService(db).import_roster(roster, actor, today=date(2026, 11, 29))
    else:
        people.record_certification(rng.choice(ids), date(2026, 11, 29) - timedelta(days=rng.randint(0, 300)),
                                    "counter", actor, evidence={"note": "crash test"}, today=date(2026, 11, 29))
