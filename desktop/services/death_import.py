"""A death list applied (issue 2 §5, issue 21 §4): 民政 (死亡日期), 卫健, or a 公安 household-register
list of deregistrations, its rows told apart by :mod:`desktop.services.death_lists`, written in
one transaction (:mod:`desktop.services.import_batch`). A deregistration for another reason than
death changes nothing and goes to review (a case for a supervisor); a death before a benefit's
start is imported with a warning and a case. The results import hands a file here when its header
names a death list.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from db import journal
from db import repositories as repo
from db.models import new_id, utcnow
from desktop.domain.rules import COHORTS
from desktop.formats.import_mapping import read_table
from desktop.formats.tabular import CellError
from desktop.platform.workstation import Actor
from desktop.services.database import Database
from desktop.services.death_lists import (
    DATE_FIELDS,
    DEATH_OPTIONAL,
    DEATH_REQUIRED,
    FLAG_DEREG_DATE,
    REVIEW_REASON,
    parse_death_row,
)
from desktop.services.import_batch import ImportReport, case, finish_batch, open_cases, person_of_row, unit_of_work

DEATH_BEFORE_START = "死亡日期早于待遇开始日期"


def import_deaths(db: Database, path: Path, actor: Actor, *, dry_run: bool, today: date,
                   mapping: dict[str, str] | None = None) -> ImportReport:
    report = ImportReport(dry_run=dry_run, kind="deaths")
    rows, seen = [], {}
    for row in read_table(path, DEATH_REQUIRED, DEATH_OPTIONAL, mapping, one_of=DATE_FIELDS):
        try:
            r = parse_death_row(row.values, row.line, today)
        except CellError as exc:
            report.reject(row.line, str(exc))
            continue
        number = r.number
        if number in seen:
            report.reject(row.line, f"与第{seen[number]}行重复（同一人的死亡报告）")
            continue
        seen[number] = row.line
        rows.append(r)

    batch_id, now = new_id(), utcnow()
    with unit_of_work(db, dry_run) as conn:
        persons = repo.persons_by_numbers(conn, sorted({r.number for r in rows}))
        ents: dict[str, list[dict]] = {}
        for (pid, _cohort), e in repo.entitlements_for_persons(conn, [p["id"] for p in persons.values()]).items():
            ents.setdefault(pid, []).append(e)
        audit, outbox, cases = [], [], []
        for r in rows:
            line, number, name, d, source = r.line, r.number, r.name, r.death_date, r.source
            person = person_of_row(persons, number, name, line, report)
            if person is None:
                continue
            if r.review is not None:
                # deregistered, not dead (迁出, 出国 …): nothing changes, a supervisor checks
                report.review.append({"line": line, "reason": REVIEW_REASON.format(reason=r.review)})
                cases.append(case("deregistered_not_death", f"{person['id']}:{r.review}:{d}", person["id"], {
                    "reason": r.review, "date": d.isoformat() if d else None, "source": Path(path).name,
                    "line": line, "list_source": source, "reported_by": actor.operator}, actor, now))
                continue
            if person["birth_date"] and d < person["birth_date"]:
                report.reject(line, "死亡日期早于出生日期")
                continue
            if r.flagged:
                report.warn(line, FLAG_DEREG_DATE)
                source = ((source or "户籍注销") + "（按注销日期）")[:100]
            before = sorted((e for e in ents.get(person["id"], ()) if _as_date(e["start_date"]) > d),
                            key=lambda e: _as_date(e["start_date"]))
            if before:
                # imported (the death is a fact) but not silently: a benefit that started
                # after its holder died is a red flag for a supervisor
                names = "、".join(f"{COHORTS[e['cohort']].name_zh} {_as_date(e['start_date']).isoformat()}"
                                 if e["cohort"] in COHORTS else str(e["start_date"]) for e in before)
                report.warn(line, f"{DEATH_BEFORE_START}（{names}），已转主管核查")
                cases.append(case("death_before_start", f"{person['id']}:{d.isoformat()}", person["id"], {
                    "death_date": d.isoformat(), "source": Path(path).name, "line": line,
                    "death_source": source, "reported_by": actor.operator, "reported_at": actor.workstation,
                    "entitlements": [{"entitlement_id": e["id"], "cohort": e["cohort"],
                                      "start_date": _as_date(e["start_date"]).isoformat()} for e in before]},
                    actor, now))
            if person["death_date"] == d:
                report.unchanged += 1
                continue
            was = person["death_date"]
            repo.set_death(conn, person["id"], d, source, now, actor.operator)
            person.update(death_date=d, death_source=source, updated_at=now)
            audit.append(("person.death_reported", "person", person["id"],
                          {"death_date": d.isoformat(), "source": source, "previous": was.isoformat() if was else None,
                           **({"date_from": "注销日期"} if r.flagged else {})}))
            outbox.append(("person", person["id"], None))
            if was is None:
                report.imported += 1
            else:
                report.updated += 1
        open_cases(conn, cases, audit, outbox)
        journal.audit_many(conn, actor.operator, actor.workstation, audit)
        journal.enqueue(conn, outbox)
        finish_batch(conn, batch_id, "deaths", path, report, actor, now)
    return report


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
