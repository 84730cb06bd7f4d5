"""Remembered per resident: the language of the resident screen (issue 19 §7).

A Mongolian-speaking resident chooses Mongolian once; the next visit — a year later, at any
counter of this database — the resident screen starts in Mongolian. Stored by the person's id
(a UUID: no name or ID number in the file) in a small JSON file beside the data, one file per
database (so the demo and 培训模式 never share the production file). Written through a temporary
file and a rename: a crash leaves the old file or the new one.

fixme(issue 19): a ``persons.screen_language`` column would carry the choice through the central
database to every counter; the schema (db/) belongs to the ledger work at the moment.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

from desktop.platform import paths
from desktop.prompts import LANGUAGES


class ResidentLanguages:
    def __init__(self, db_url: str, path: Path | None = None):
        tag = hashlib.sha1(db_url.encode("utf-8")).hexdigest()[:12]
        self.path = path or (paths.data_dir() / f"resident-languages-{tag}.json")
        self._lock = threading.Lock()

    def _load(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def get(self, person_id: str | None) -> str:
        """The person's language ("zh" when none was chosen)."""
        if not person_id:
            return "zh"
        with self._lock:
            return self._load().get(person_id, "zh")

    def set(self, person_id: str, language: str) -> None:
        if language != "zh" and language not in LANGUAGES:
            raise ValueError(language)
        with self._lock:
            data = self._load()
            if language == "zh":
                data.pop(person_id, None)
            else:
                data[person_id] = language
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, ensure_ascii=False, indent=0, sort_keys=True), encoding="utf-8")
            os.replace(tmp, self.path)
