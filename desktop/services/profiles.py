"""Saved import source profiles (issue 21 §2): a bureau's column mapping under a name
(省系统花名册, 民政死亡名单, 公安户籍注销, 人社App认证结果 …) with the header it was made for.

Kept in the database and synced like the settings (on an enrolled workstation the centre's
copy decides); saved by whoever may import that kind of list (a supervisor). A profile whose
header signature matches a new file is offered for it automatically.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from db import journal
from db import profiles_repo
from desktop.errors import NotFound, UserFacingError
from desktop.formats.import_mapping import IGNORE, normalize, preview, resolve, signature
from desktop.services.database import Database
from desktop.services.guard import require
from desktop.platform.workstation import Actor

KINDS = {"roster": "待遇人员名册", "results": "认证结果或死亡名单"}
PERMISSION = {"roster": "roster.import", "results": "results.import"}
NAME_MAX = 32


def kind_fields(kind: str) -> tuple[list[str], list[str]]:
    """(required, optional) fields of a kind of list (results: certification results and death
    lists alike, the header tells which)."""
    from desktop.formats.roster_rows import ROSTER_OPTIONAL, ROSTER_REQUIRED
    from desktop.services.death_lists import DEATH_OPTIONAL, DEATH_REQUIRED

    if kind == "roster":
        return list(ROSTER_REQUIRED), list(ROSTER_OPTIONAL)
    from desktop.services.results_import import RESULT_COLUMNS

    return list(DEATH_REQUIRED), [f for f in [*RESULT_COLUMNS, *DEATH_OPTIONAL] if f not in DEATH_REQUIRED]


@dataclass(frozen=True)
class Profile:
    name: str
    kind: str
    columns: dict[str, str]  # {source header: field}
    header: list[str]
    signature: str
    updated_by: str | None
    updated_at: object

    def as_json(self) -> dict:
        return {"name": self.name, "kind": self.kind, "kind_zh": KINDS.get(self.kind, self.kind),
                "columns": self.columns, "header": self.header, "signature": self.signature,
                "updated_by": self.updated_by,
                "updated_at": self.updated_at.isoformat(timespec="seconds") if hasattr(self.updated_at, "isoformat")
                else self.updated_at}


def _profile(row: dict) -> Profile:
    try:
        doc = json.loads(row["mapping"] or "{}")
    except ValueError:
        doc = {}
    return Profile(row["name"], row["kind"], dict(doc.get("columns") or {}), list(doc.get("header") or []),
                   doc.get("signature") or "", row["updated_by"], row["updated_at"])


class ProfileService:
    def __init__(self, db: Database):
        self.db = db

    def list(self, kind: str | None = None) -> list[Profile]:
        with self.db.engine.connect() as conn:
            out = [_profile(r) for r in profiles_repo.all_rows(conn)]
        return [p for p in out if kind is None or p.kind == kind]

    def get(self, name: str) -> Profile:
        with self.db.engine.connect() as conn:
            row = profiles_repo.get(conn, name)
        if row is None:
            raise NotFound(f"没有这个来源方案：{name}", code="profile_not_found")
        return _profile(row)

    def matching(self, kind: str, header: list[str]) -> Profile | None:
        """The saved profile made for this very header, if any (newest first)."""
        sig = signature(header)
        found = [p for p in self.list(kind) if p.signature == sig]
        found.sort(key=lambda p: str(p.updated_at), reverse=True)
        return found[0] if found else None

    def save(self, name: str, kind: str, columns: dict[str, str], header: list[str], actor: Actor) -> Profile:
        name = (name or "").strip()
        if not name or len(name) > NAME_MAX:
            raise UserFacingError(f"来源方案名称应为 1 到 {NAME_MAX} 个字", code="bad_profile")
        if kind not in KINDS:
            raise UserFacingError(f"未知的名单类别：{kind}", code="bad_profile")
        require(self.db, actor, PERMISSION[kind])
        required, optional = kind_fields(kind)
        allowed = set(required) | set(optional)
        wrong = [t for t in columns.values() if t != IGNORE and t not in allowed]
        if wrong:
            raise UserFacingError(f"没有这个目标列：{'、'.join(wrong)}", code="bad_map")
        doc = {"columns": columns, "header": list(header), "signature": signature(header)}
        with self.db.engine.begin() as conn:
            existed = profiles_repo.get(conn, name) is not None
            profiles_repo.put(conn, name, kind, json.dumps(doc, ensure_ascii=False, sort_keys=True), actor.operator)
            journal.audit(conn, actor.operator, actor.workstation, "profile.save", "import_profile", None,
                          {"name": name, "kind": kind, "columns": columns, "replaced": existed})
            journal.enqueue(conn, [("import_profile", name, {"name": name})])
        return self.get(name)

    def mapping_for(self, path: Path, kind: str, *, profile: str | None = None,
                    explicit: dict[str, str] | None = None) -> dict[str, str] | None:
        """The explicit mapping an import gets: the named profile's columns that the file has,
        then ``explicit`` (``--map``) over them. Checked against the file's header here, so a
        wrong ``--map`` or profile fails before the import starts."""
        columns: dict[str, str] = {}
        if profile:
            p = self.get(profile)
            if p.kind != kind:
                raise UserFacingError(f"来源方案“{profile}”用于{KINDS.get(p.kind, p.kind)}，不能用于{KINDS[kind]}",
                                      code="bad_profile")
            here = {normalize(h) for h in preview(path, n=0).header if h}
            columns = {s: t for s, t in p.columns.items() if normalize(s) in here}
        if explicit:
            columns.update(explicit)
        if not columns:
            return None
        if explicit:
            required, optional = kind_fields(kind)
            resolve(preview(path, n=0).header, [], required + optional, explicit)  # raises on a bad --map
        return columns
