"""Pre-loads CertDesk once, then forks a busy worker per request, so a test can kill a hundred
workers in seconds (a fresh interpreter per kill costs ~1 s of imports).

Protocol on stdin/stdout, one line each: the test writes ``go``; the zygote forks a child that
opens the database itself (no connection crosses the fork), prints its pid, and certifies and
imports until killed; the test SIGKILLs that pid and writes ``reap``; the zygote reaps it and
answers ``reaped``. ``quit`` ends the zygote.
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
from desktop.platform.workstation import Actor  # noqa: E402

URL, ROSTER = sys.argv[1], Path(sys.argv[2])


def work() -> None:  # the child: never returns
    db = Database.open(URL, migrate=False)
    actor = Actor("crash-worker", "ws-crash", "supervisor")
    people = PersonService(db)
    rng = random.Random(os.getpid())
    ids = [p.id for p in people.search("测", limit=500)]
    while True:
        if rng.random() < 0.15:
            ImportService(db).import_roster(ROSTER, actor, today=date(2026, 11, 29))
        else:
            people.record_certification(rng.choice(ids), date(2026, 11, 29) - timedelta(days=rng.randint(0, 300)),
                                        "counter", actor, evidence={"note": "crash test"}, today=date(2026, 11, 29))


print("ready", flush=True)
child = None
for line in sys.stdin:
    cmd = line.strip()
    if cmd == "go":
        child = os.fork()
        if child == 0:
            try:
                work()
            finally:
                os._exit(1)
        print(child, flush=True)
    elif cmd == "reap":
        os.waitpid(child, 0)
        print("reaped", flush=True)
    elif cmd == "quit":
        break
