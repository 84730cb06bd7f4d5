"""The results import (issue 2 §5, issue 21): certification results from the provincial app
(手机认证) and other agencies' data matching (信息比对), 通过 / 未通过, each row imported,
unchanged (already there) or rejected with its reason, in one transaction
(:mod:`desktop.services.import_batch`). A passed result dated after the recorded death is refused
(it is not proof of life) and opens a case for a supervisor. A file whose header names a death
list (死亡日期, 注销日期, 注销原因) goes to :mod:`desktop.services.death_import`.

``import_results`` decides money (a passed result resumes payment): it is mutated by
``bench/mutation.py`` and pinned by the money tests.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from db import journal
from db import repositories as repo
from db.certification_queries import certification_keys_for_persons
from db.models import new_id, utcnow
from desktop.formats.import_mapping import read_header, read_table
from desktop.formats.roster_rows import check_id, check_name
from desktop.formats.tabular import CellError, compact, parse_date
from desktop.platform.workstation import Actor
from desktop.services.database import Database
from desktop.services.death_import import import_deaths
from desktop.services.death_lists import MARKERS
from desktop.services.guard import require
from desktop.services.import_batch import ImportReport, case, finish_batch, open_cases, person_of_row, unit_of_work

RESULT_COLUMNS = ["公民身份号码", "姓名", "认证日期", "认证方式", "认证结果"]

RESULT_METHODS = {"手机认证": "mobile_app", "信息比对": "data_match"}
RESULT_VALUES = {"通过": "passed", "未通过": "failed"}

CERTIFIED_AFTER_DEATH = "认证日期晚于已登记的死亡日期（疑似冒领），已转主管核查"


def import_results(db: Database, path: Path, actor: Actor, *, dry_run: bool = False, today: date | None = None,
                   mapping: dict[str, str] | None = None) -> ImportReport:
    """Certification results (手机认证 / 信息比对) or death reports; the header tells which."""
    require(db, actor, "results.import")
    today = today or date.today()
    header_probe = read_header(Path(path), mapping)
    if MARKERS.intersection(header_probe):
        return import_deaths(db, path, actor, dry_run=dry_run, today=today, mapping=mapping)
    report = ImportReport(dry_run=dry_run, kind="results")
    rows = []
    seen: dict[tuple, int] = {}
    for row in read_table(path, RESULT_COLUMNS, (), mapping):
        v = row.values
        try:
            number = check_id(v.get("公民身份号码"), today).number
            name = check_name(v.get("姓名"))
            d = parse_date(v.get("认证日期"), field="认证日期")
            if d is None:
                raise CellError("认证日期为空")
            if d > today:
                raise CellError(f"认证日期晚于今天：{d.isoformat()}")
            method_text = compact(v.get("认证方式"))
            method = RESULT_METHODS.get(method_text)
            if method is None:
                raise CellError(f"认证方式应为“手机认证”或“信息比对”：{method_text[:10] or '（空）'}")
            result_text = compact(v.get("认证结果"))
            result = RESULT_VALUES.get(result_text)
            if result is None:
                raise CellError(f"认证结果应为“通过”或“未通过”：{result_text[:10] or '（空）'}")
        except CellError as exc:
            report.reject(row.line, str(exc))
            continue
        key = (number, d, method, result)
        if key in seen:
            report.reject(row.line, f"与第{seen[key]}行重复")
            continue
        seen[key] = row.line
        rows.append((row.line, number, name, d, method, result))

    batch_id, now = new_id(), utcnow()
    with unit_of_work(db, dry_run) as conn:
        persons = repo.persons_by_numbers(conn, sorted({r[1] for r in rows}))
        existing = certification_keys_for_persons(conn, [p["id"] for p in persons.values()])
        new_certs, audit, outbox, cases = [], [], [], []
        for line, number, name, d, method, result in rows:
            person = person_of_row(persons, number, name, line, report)
            if person is None:
                continue
            death = person["death_date"]
            if result == "passed" and death is not None and d > death:
                # the classic sign of someone else using a dead person's account: not proof
                # of life; refused, and a case for a supervisor (once per person and date)
                report.reject(line, CERTIFIED_AFTER_DEATH)
                cases.append(case("certified_after_death", f"{person['id']}:{d.isoformat()}", person["id"], {
                    "cert_date": d.isoformat(), "death_date": death.isoformat(), "method": method,
                    "certified_by": actor.operator, "certified_at": actor.workstation,
                    "source": Path(path).name, "line": line}, actor, now))
                continue
            key = (person["id"], d, method, result)
            if key in existing:
                report.unchanged += 1
                continue
            existing.add(key)
            cert = {
                "id": new_id(), "person_id": person["id"], "cert_date": d, "method": method,
                "result": result, "evidence": json.dumps({"source": Path(path).name, "line": line}, ensure_ascii=False),
                "operator": actor.operator, "approver": None, "workstation": actor.workstation,
                "batch_id": batch_id, "created_at": now,
            }
            new_certs.append(cert)
            outbox.append(("certification", cert["id"], None))
            report.imported += 1
        repo.insert_certifications(conn, new_certs)
        open_cases(conn, cases, audit, outbox)
        journal.audit_many(conn, actor.operator, actor.workstation, audit)
        journal.enqueue(conn, outbox)
        finish_batch(conn, batch_id, "results", path, report, actor, now)
    return report
