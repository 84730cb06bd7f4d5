"""What sync decides beyond storing rows (docs/sync.md §3.4, issue 15 §2). Qt-free.

``db/sync`` moves rows and applies each table's conflict rule; the decisions that open cases live
here: a person created on this workstation that the centre already holds (same ID number) is
merged onto the central person; a passed certification dated after a death the centre holds opens
a case; and a difference in data the centre decides (operators, settings, import profiles, rules)
is put back from the centre and reported. ``push`` is ``db.sync.push`` with these decisions.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Callable

from sqlalchemy import Connection, Engine

from db import journal
from db import sync as dbsync
from db.models import utcnow
from db.sync import remap

IDENTITY_FIELDS = ("name", "sex", "birth_date")  # a merged person whose fields differ stays an open case
# The fields of each centrally decided table a workstation may not change (None: every column).
AUTHORITY_FIELDS = {"operators": ("username", "role", "active"), "settings": ("value",),
                    "import_profiles": ("kind", "mapping"), "cycle_rules": None}


def push(local: Engine, central: Engine, workstation: str, *, batch: int = 5000,
         after_central_commit: Callable[[], None] | None = None, device: bool = False) -> dbsync.PushResult:
    """Push this workstation's waiting changes, merging duplicate new persons (``merge_persons``)
    and checking certifications against central deaths (``certified_after_death``)."""
    return dbsync.push(local, central, workstation, merge=merge_persons,
                       check_certifications=certified_after_death, batch=batch,
                       after_central_commit=after_central_commit, device=device)


def certified_after_death(cc: Connection, certs: list[dict], workstation: str) -> list[dict]:
    """A death reported centrally wins over a certification dated after it: the certification is
    kept (a fact) but a supervisor case is opened (docs/sync.md §3.3). Runs inside the push's
    central transaction; returns the cases."""
    deaths = dbsync.death_dates(cc, [c["person_id"] for c in certs])
    cases = []
    for c in certs:
        death = deaths.get(c["person_id"])
        cert_date = c["cert_date"] if isinstance(c["cert_date"], date) else date.fromisoformat(str(c["cert_date"]))
        if death is None or cert_date <= death or c.get("result") != "passed":
            continue
        detail = {"certification_id": c["id"], "cert_date": cert_date.isoformat(), "death_date": death.isoformat(),
                  "method": c["method"], "certified_by": c.get("operator"), "certified_at": c.get("workstation")}
        now = utcnow()
        cases.append({
            "id": dbsync.case_id(f"certified_after_death:{c['id']}"), "kind": "certified_after_death",
            "entity": "certifications", "entity_id": c["id"], "person_id": c["person_id"],
            "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True), "workstation": workstation,
            "status": "open", "resolved_by": None, "resolved_at": None, "created_at": now, "updated_at": now,
        })
    dbsync.insert_central_cases(cc, cases, workstation)
    return [dbsync.conflict_json(c) for c in cases]


def merge_persons(local: Engine, dups: dict[str, dict], central_ents: list[dict], workstation: str) -> list[dict]:
    """Map persons created here onto the central persons with the same ID number.

    In one local transaction: the central person (and its entitlements) replace the local copies;
    a local entitlement of a cohort the central person already has is replaced by the central one;
    every local row that referred to them (certifications, events, forms, visits …) is re-pointed
    and queued, so it is pushed under the central ids; the local copies' outbox entries are marked
    done (``push_error = 'merged:<central id>'``); refused entries of re-pointed rows are retried.
    A ``duplicate_person_merged`` case records it (open when name, sex or birth date differed).
    """
    person_refs, ent_refs = remap.refs("persons"), remap.refs("entitlements")
    cases: list[dict] = []
    now = utcnow()
    with local.begin() as lc:
        remap.begin(lc, now)
        for local_id, cp in dups.items():
            central_id = str(cp["id"])
            mine = remap.person(lc, local_id)
            if mine is None:
                continue
            cents = {r["cohort"]: r for r in central_ents if str(r["person_id"]) == central_id}
            ent_map = {str(e["id"]): cents[e["cohort"]] for e in remap.entitlements_of(lc, local_id)
                       if e["cohort"] in cents}
            # 1. the local copies go, the central rows come in (FKs are checked at commit)
            remap.replace(lc, "persons", [local_id], [cp])
            remap.replace(lc, "entitlements", list(ent_map), list(ent_map.values()))
            # 2. re-point what referred to them, and queue it
            queue: list[tuple[str, str]] = []
            moved: dict[str, int] = {}
            for st, col in ent_refs:
                for old, ce in ent_map.items():
                    keys = remap.repoint(lc, st, col, old, str(ce["id"]))
                    if keys:
                        queue += [(st.table.name, k) for k in keys]
                        moved[st.table.name] = moved.get(st.table.name, 0) + len(keys)
            for st, col in person_refs:
                keys = remap.repoint(lc, st, col, local_id, central_id)
                if keys:
                    if st.push:
                        queue += [(st.table.name, k) for k in keys]
                    moved[st.table.name] = moved.get(st.table.name, 0) + len(keys)
            # person_id is the key of outreach_flags: its re-pointed rows are queued under the new key
            queue = [(t, central_id if (t == "outreach_flags" and k == local_id) else k) for t, k in queue]
            # 3. the local copies' entries are done; refused entries of re-pointed rows are retried
            gone = [("person", local_id), ("persons", local_id)]
            gone += [(e, old) for old in ent_map for e in ("entitlement", "entitlements")]
            remap.close_entries(lc, gone, f"merged:{central_id}", now)
            for table, key in queue:
                remap.retry_entries(lc, table, key)
            journal.enqueue(lc, [(t, k, None) for t, k in dict.fromkeys(queue)])
            # 4. the record: a case and an audit event (never the ID number)
            differ = [f for f in IDENTITY_FIELDS if dbsync.norm(mine.get(f)) != dbsync.norm(cp.get(f))]
            detail = {"local_person_id": local_id, "central_person_id": central_id, "differing_fields": differ,
                      "merged_entitlements": {old: str(ce["id"]) for old, ce in ent_map.items()},
                      "repointed": moved, "local_name": mine.get("name"), "central_name": cp.get("name")}
            case = {"id": dbsync.case_id(f"duplicate_person_merged:{local_id}"),
                    "kind": "duplicate_person_merged", "entity": "persons", "entity_id": central_id,
                    "person_id": central_id, "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str),
                    "workstation": workstation, "status": "open" if differ else "resolved",
                    "resolved_by": None if differ else "system", "resolved_at": None if differ else now,
                    "created_at": now, "updated_at": now}
            dbsync.insert_case(lc, case)
            journal.enqueue(lc, [("sync_conflict", case["id"], None)])
            journal.audit(lc, "system", workstation, "sync.duplicate_person_merged", "person", central_id,
                          {k: v for k, v in detail.items() if k not in ("local_name", "central_name")})
            cases.append(dbsync.conflict_json(case))
    return cases


def enforce_authority(local: Engine, central: Engine, workstation: str) -> list[dict]:
    """Compare this device's copy of the centrally decided tables with the centre's.

    A difference in an authority field (an operator's username, role or active flag; a setting's
    value; a rule) was made on this workstation — in the window that refuses it, or in the SQLite
    file — and is refused: the central row is put back here and a case ``authority_refused`` is
    opened (audited, and pushed so the centre sees it). A senior account the centre does not
    know is reported (``authority_local_only``) and left alone. Returns the new cases."""
    with central.connect() as cc:
        crows = {name: dbsync.table_rows(cc, name) for name in dbsync.CENTRAL_OWNED}
    with local.connect() as lc:
        lrows = {name: dbsync.table_rows(lc, name) for name in dbsync.CENTRAL_OWNED}
    restore: dict[str, list[dict]] = {}
    found: list[dict] = []
    for name in dbsync.CENTRAL_OWNED:
        fields = AUTHORITY_FIELDS[name] or [c for c in dbsync.columns(name) if c != "updated_at"]
        for key, lrow in lrows[name].items():
            crow = crows[name].get(key)
            if crow is None:
                if name == "operators" and lrow.get("active") and lrow.get("role") != "clerk":
                    found.append({"kind": "authority_local_only", "entity": name, "entity_id": key,
                                  "detail": {"username": lrow.get("username"), "role": lrow.get("role")}})
                continue
            diff = [f for f in fields if dbsync.norm(lrow.get(f)) != dbsync.norm(crow.get(f))]
            if diff:
                restore.setdefault(name, []).append(crow)
                found.append({"kind": "authority_refused", "entity": name, "entity_id": key,
                              "detail": {"fields": diff, "local": {f: _plain(lrow.get(f)) for f in diff},
                                         "central": {f: _plain(crow.get(f)) for f in diff},
                                         **({"username": crow.get("username")} if name == "operators" else {})}})
    if not found:
        return []
    now = utcnow()
    cases = []
    with local.begin() as lc:
        for name, rows in restore.items():
            remap.restore(lc, name, rows)
        for f in found:
            detail = f["detail"]
            ident = f"{f['kind']}:{f['entity']}:{f['entity_id']}:{json.dumps(detail, sort_keys=True, default=str)}"
            row = {"id": dbsync.case_id(ident), "kind": f["kind"], "entity": f["entity"],
                   "entity_id": f["entity_id"], "person_id": None,
                   "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str),
                   "workstation": workstation, "status": "open", "resolved_by": None, "resolved_at": None,
                   "created_at": now, "updated_at": now}
            if dbsync.insert_case(lc, row):
                journal.audit(lc, "system", workstation, "sync." + f["kind"], f["entity"], None,
                              {"entity_id": f["entity_id"], **detail})
                journal.enqueue(lc, [("sync_conflict", row["id"], None)])
                cases.append(dbsync.conflict_json(row))
    dbsync.close_central_entries(local)
    return cases


def _plain(v):
    return v.isoformat() if isinstance(v, (date, datetime)) else v
