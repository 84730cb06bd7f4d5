"""Sync with the central PostgreSQL (docs/sync.md): persistence only, no Qt, no desktop/.

* ``tables`` — the synced tables, their conflict rules as upserts, the sync bookkeeping;
* ``push`` — the outbox to the centre; ``pull`` — the centre's change log to this workstation;
* ``conflicts`` — sync cases; ``remap`` — the steps of merging a duplicate new person.

What sync decides beyond storing rows (merging duplicate persons, the centre's authority) is in
``desktop/services/sync_policy.py``. The names below are this package's public interface
(``from db import sync as dbsync``).
"""

from db.sync.conflicts import (
    case_id,
    conflict_json,
    conflict_row,
    conflict_rows,
    insert_case,
    open_conflicts,
    resolve_conflict,
)
from db.sync.pull import PullResult, apply_rows, central_head, copy_subset, pull
from db.sync.push import (
    CertificationCheck,
    Merge,
    PushResult,
    clear_refused,
    close_central_entries,
    death_dates,
    insert_central_cases,
    push,
    refused,
    refused_count,
    retry_superseded,
)
from db.sync.tables import (
    CENTRAL_OWNED,
    CHUNK,
    CLOSED_VISIT,
    CONFLICT_NS,
    ENTITY_TABLE,
    LOCK_KEY,
    ORDER,
    TABLES,
    SyncTable,
    central_identity,
    columns,
    cursor_key,
    delete_state,
    get_state,
    norm,
    set_state,
    table_rows,
    waiting,
)

__all__ = [
    "CENTRAL_OWNED", "CHUNK", "CLOSED_VISIT", "CONFLICT_NS", "ENTITY_TABLE", "LOCK_KEY", "ORDER", "TABLES",
    "CertificationCheck", "Merge", "PullResult", "PushResult", "SyncTable", "apply_rows", "case_id", "central_head",
    "central_identity", "clear_refused", "close_central_entries", "columns", "conflict_json", "conflict_row",
    "conflict_rows", "copy_subset", "cursor_key", "death_dates", "delete_state", "get_state", "insert_case",
    "insert_central_cases", "norm",
    "open_conflicts", "pull", "push", "refused", "refused_count", "resolve_conflict", "retry_superseded",
    "set_state", "table_rows", "waiting",
]
