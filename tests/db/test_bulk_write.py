"""db.engine.bulk_write: a large transaction commits without SQLite's inline WAL checkpoint, the
connection gets its automatic checkpoint back, and the WAL is checkpointed in the background."""

from __future__ import annotations

import os
import time

from sqlalchemy import text

from db import engine as dbengine
from db import bulk
from db import repositories as repo
from desktop.services.database import Database


def _wal_size(path) -> int:
    wal = f"{path}-wal"
    return os.path.getsize(wal) if os.path.exists(wal) else 0


def test_bulk_write_restores_autocheckpoint_and_checkpoints_afterwards(tmp_path):
    path = tmp_path / "x.sqlite"
    db = Database.open(f"sqlite:///{path}")
    cols = ("id", "id_number", "name", "sex", "birth_date", "phone", "address", "residence")
    const = {"created_at": "2026-11-29 08:00:00.000000", "updated_at": "2026-11-29 08:00:00.000000"}
    with db.engine.connect() as conn:
        with dbengine.bulk_write(conn):
            raw = conn.connection.driver_connection
            assert raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
            with conn.begin():
                bulk.insert_rows(conn, repo.persons, cols,
                                 [(f"p{i}", f"{i:018d}", "王桂兰", "F", "1950-01-01", None, "阿尔山市" * 20, "local")
                                  for i in range(20_000)], const)
        # the same (pooled) connection is back to SQLite's default
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == dbengine.WAL_AUTOCHECKPOINT
    assert _wal_size(path) > 0
    # the background checkpoint (nothing else here checkpoints) copies the WAL into the file
    deadline = time.monotonic() + 20
    while os.path.getsize(path) < 2_000_000 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert os.path.getsize(path) > 2_000_000
    with db.engine.connect() as conn:
        assert conn.execute(text("select count(*) from persons")).scalar() == 20_000


def test_a_failed_bulk_write_restores_the_connection_too(tmp_path):
    db = Database.open(f"sqlite:///{tmp_path / 'x.sqlite'}")
    with db.engine.connect() as conn:
        try:
            with dbengine.bulk_write(conn):
                raise RuntimeError("import failed")
        except RuntimeError:
            pass
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == dbengine.WAL_AUTOCHECKPOINT
