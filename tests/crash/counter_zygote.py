"""Pre-loads CertDesk once, then forks workers that certify at the counter and receive returned
assist forms until killed (see zygote.py for the protocol: ``go`` / ``reap`` / ``quit``).

``hook KIND`` forks a worker that does ONE certification of KIND (``face``, ``attestation`` or
``form``) and SIGKILLs itself at the step where older versions had already committed the
certification in a transaction of its own: the counter's outcome event (face, attestation) or the
form's receipt (form). Its pid is printed like ``go``'s; it dies on its own.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("CERTDESK_MODE", "test")

from db import journal  # noqa: E402
from desktop.services.counter import CardFacts, FaceOutcome  # noqa: E402
from desktop.services.database import Database  # noqa: E402
from desktop.services.hub import Services  # noqa: E402
from desktop.platform.workstation import Actor  # noqa: E402

# loaded once here, not in every child (the forms stack imports reportlab, the evidence the vault)
import desktop.services.central  # noqa: E402,F401
import desktop.services.evidence  # noqa: E402,F401
import desktop.services.forms  # noqa: E402,F401
import desktop.services.payroll  # noqa: E402,F401

URL, PLAN = sys.argv[1], Path(sys.argv[2])
TODAY = date(2026, 11, 29)
CARD = CardFacts("simulated", "测")
PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40  # stored encrypted beside the certification
KILL_AT = {"face": "counter.outcome", "attestation": "counter.outcome", "form": "assist_form.receive"}


def _services():
    db = Database.open(URL, migrate=False)
    return Services(db)


def certify(services: Services, kind: str, rng: random.Random, plan: dict) -> None:
    actor = Actor("lizr", "ws-crash", "supervisor")
    person = rng.choice(plan["persons"])
    if kind == "face":
        face = FaceOutcome(0.31, True, 3, 5, ("blink",), 0.5, 0.6, PHOTO)
        services.counter.certify_by_face(person, TODAY, actor, face, card=CARD, seconds=12.0)
    elif kind == "attestation":
        approver = services.operators.get("wangzr")
        services.counter.certify_by_attestation(person, TODAY, actor, approver, "face_failed", card=CARD,
                                                face_attempts=2, face_failures=("not_matching", "not_matching"))
    else:
        outstanding = [f.serial for f in services.forms.outstanding(TODAY)]
        if not outstanding:
            return
        services.forms.receive(body_name="大连市沙河口区社区服务中心", body_date=TODAY, certifier="王芳", actor=actor,
                               text=rng.choice(outstanding), today=TODAY)


def work() -> None:  # busy until killed
    services = _services()
    plan = json.loads(PLAN.read_text())
    rng = random.Random(os.getpid())
    while True:
        r = rng.random()
        certify(services, "face" if r < 0.6 else "attestation" if r < 0.75 else "form", rng, plan)


def hooked(kind: str) -> None:
    """One certification, killed between the steps that used to be separate transactions."""
    services = _services()
    plan = json.loads(PLAN.read_text())
    real = journal.audit

    def audit(conn, operator, workstation, action, *args, **kw):
        if action == KILL_AT[kind]:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(conn, operator, workstation, action, *args, **kw)

    journal.audit = audit
    certify(services, kind, random.Random(1), plan)
    os._exit(3)  # not reached: the hook kills first


print("ready", flush=True)
child = None
for line in sys.stdin:
    cmd, *arg = line.split()
    if cmd in ("go", "hook"):
        child = os.fork()
        if child == 0:
            try:
                work() if cmd == "go" else hooked(arg[0])
            finally:
                os._exit(1)
        print(child, flush=True)
    elif cmd == "reap":
        _, status = os.waitpid(child, 0)
        print("reaped", os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, flush=True)
    elif cmd == "quit":
        break
