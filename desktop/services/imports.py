"""The import service: one entry point for the files the bureau receives (issue 2 §5).

Which file goes where:

* the provincial roster → :mod:`desktop.services.roster_import` (large files read in a second
  process while this one writes);
* certification results (手机认证 / 信息比对) → :mod:`desktop.services.results_import`;
* death lists (a header naming 死亡日期, 注销日期 or 注销原因) → the results import hands them to
  :mod:`desktop.services.death_import`.

What they share — the report, the one transaction per file, the batch record and the cases for a
supervisor — is :mod:`desktop.services.import_batch`. The column lists a file needs are
re-exported here, beside the service that reads them.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from desktop.formats.roster_rows import ROSTER_COLUMNS
from desktop.platform.workstation import Actor
from desktop.services.database import Database
from desktop.services.death_lists import DEATH_COLUMNS
from desktop.services.import_batch import ImportReport
from desktop.services.results_import import RESULT_COLUMNS, import_results
from desktop.services.roster_import import import_roster

__all__ = ["DEATH_COLUMNS", "RESULT_COLUMNS", "ROSTER_COLUMNS", "ImportReport", "ImportService"]


class ImportService:
    def __init__(self, db: Database):
        self.db = db

    def import_roster(self, path: Path, actor: Actor, *, dry_run: bool = False, today: date | None = None,
                      mapping: dict[str, str] | None = None) -> ImportReport:
        """``mapping``: {source header: field} for the columns synonyms do not recognise (the
        import dialog, ``--map`` or a profile: desktop.services.profiles)."""
        return import_roster(self.db, path, actor, dry_run=dry_run, today=today, mapping=mapping)

    def import_results(self, path: Path, actor: Actor, *, dry_run: bool = False, today: date | None = None,
                       mapping: dict[str, str] | None = None) -> ImportReport:
        """Certification results (手机认证 / 信息比对) or a death list; the header tells which."""
        return import_results(self.db, path, actor, dry_run=dry_run, today=today, mapping=mapping)
