"""Demo activity for the bureau's dashboards: a year of counter visits with timing and face-check
evidence, and a week of phone reminders — recorded through the real services, on top of
:func:`desktop.demo.build_demo_database`.

The evidence keys are the ones :mod:`desktop.services.dashboards` reads (``service_seconds``,
``face_attempts``, ``face_passed``, ``face_failures``).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from desktop.services.database import Database
from desktop.services.outreach import OutreachService
from desktop.services.settings import SettingsService
from desktop.services.persons import PersonService
from desktop.platform.workstation import Actor

CLERKS = [Actor("张敏", "counter-1", "clerk"), Actor("王丽", "counter-2", "clerk")]
REASONS = ["not_matching", "too_dark", "blurry", "challenge_not_done", "face_lost", "eyes_closed", "no_face",
           "old_photo"]
REASON_WEIGHTS = [22, 6, 10, 18, 9, 5, 4, 12]


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def add_counter_history(db: Database, today: date, *, visits: int = 1400, seed: int = 8) -> int:
    """Counter certifications over the last 12 months for living, non-terminated residents."""
    from db import repositories as repo
    from sqlalchemy import select

    from db.models import Person

    rng = random.Random(seed)
    p = Person.__table__
    with db.engine.connect() as conn:
        people = [(r[0], r[1]) for r in conn.execute(select(p.c.id, p.c.birth_date).where(p.c.death_date.is_(None)))]
    persons = PersonService(db)
    done = 0
    for _ in range(visits):
        pid, birth = rng.choice(people)
        day = today - timedelta(days=int(rng.triangular(0, 360, 40)))
        if day.weekday() >= 5:
            day -= timedelta(days=2)
        age = _age(birth, day) if birth else 70
        # older residents fail the first attempt more often (lighting, posture, old card photos)
        p_first = 0.93 if age < 70 else 0.86 if age < 80 else 0.74 if age < 90 else 0.58
        failures = []
        attempts = 1
        while rng.random() > (p_first if attempts == 1 else 0.8) and attempts < 3:
            failures.append(rng.choices(REASONS, REASON_WEIGHTS)[0])
            attempts += 1
        passed = not (attempts == 3 and rng.random() < 0.35)
        if not passed:
            failures.append(rng.choices(REASONS, REASON_WEIGHTS)[0])
        base = 38 + 9 * attempts + max(0, age - 70) * 0.6 + (day.month in (1, 2, 12)) * 6
        seconds = round(max(20, rng.gauss(base, 12)), 1)
        evidence = {"service_seconds": seconds, "face_attempts": attempts, "face_passed": passed,
                    "face_failures": failures}
        method = "counter" if passed else "staff_attestation"
        try:
            persons.record_certification(pid, day, method, rng.choice(CLERKS), evidence=evidence, today=today,
                                         approver="李主管" if method == "staff_attestation" else None)
            done += 1
        except Exception:  # noqa: BLE001 - a demo row refused by a rule is simply skipped
            continue
    return done


def add_outreach(db: Database, today: date, *, seed: int = 9) -> int:
    """Phone reminders over the last three weeks; some residents then certify in time."""
    rng = random.Random(seed)
    out = OutreachService(db, SettingsService(db))
    persons = PersonService(db)
    start = today - timedelta(days=21)
    rows = out.due_within(60, start, include_overdue=False)
    rng.shuffle(rows)
    n = 0
    for r in rows[: max(30, len(rows) * 2 // 3)]:
        day = start + timedelta(days=rng.randint(0, 6))
        outcome = rng.choices(["called", "no_answer", "will_come", "form_sent"], [30, 20, 35, 15])[0]
        if r.channel == "remote":
            outcome = "form_sent"
        out.mark(r.person_id, outcome, CLERKS[n % 2], as_of=day, deadline=r.deadline, channel=r.channel)
        n += 1
        if outcome != "no_answer" and rng.random() < 0.62:
            cert = day + timedelta(days=rng.randint(1, 12))
            if cert <= min(today, r.deadline):
                method = {"local": rng.choice(["counter", "mobile_app"]), "remote": "remote_assist",
                          "home_visit": "home_visit"}[r.channel]
                persons.record_certification(r.person_id, cert, method, CLERKS[0], today=today,
                                             evidence={"service_seconds": round(rng.gauss(50, 10), 1),
                                                       "face_attempts": 1, "face_passed": True}
                                             if method == "counter" else {"outreach": True})
    return n
