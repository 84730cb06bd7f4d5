"""Engines and sessions: SQLite (encrypted, WAL, foreign keys) for the workstation, any SQLAlchemy URL else."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


# The key of a file database comes from above this layer (desktop/services/database.py registers
# a provider that asks the OS key store); ``db`` itself never knows where keys live.
KeyProvider = Callable[[Path], "bytes | None"]
_key_provider: KeyProvider | None = None
_PROVIDER = object()


def set_key_provider(provider: KeyProvider | None) -> None:
    global _key_provider
    _key_provider = provider


def sqlite_file(url: str) -> Path | None:
    """The file of an SQLite URL (None: in memory, another database, or a URI with options)."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.get_backend_name() != "sqlite" or u.query or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def make_engine(url: str, *, key=_PROVIDER) -> Engine:
    """An engine for ``url``. A file SQLite database is encrypted (SQLCipher, db/encryption.py)
    under ``key`` — by default the registered provider's key for that file; ``key=None`` (or no
    provider) opens it in plaintext. A plaintext database met with a key is migrated in place.

    File databases reuse the most recently returned connection first (``pool_use_lifo``): its page
    cache is warm, and with SQLCipher a cold page costs a decryption (AES + HMAC per 4 KiB page,
    ≈ 0.1 s CPU per 50 MB read; bench/bench_encryption.py)."""
    if url.startswith("sqlite"):
        path = sqlite_file(url)
        if key is _PROVIDER:
            key = _key_provider(path) if (_key_provider is not None and path is not None) else None
        if path is not None and key is not None:
            from db import encryption

            encryption.prepare(path, key)  # raises EncryptionError("wrong_key", …)
            if not path.exists():
                encryption.create_private(path)  # the database holds personal data
            engine = create_engine(url, future=True, module=encryption.dbapi(), pool_use_lifo=True,
                                   creator=encryption.creator(str(path), key))
        else:
            if path is not None and not path.exists():
                from db.encryption import create_private

                create_private(path)  # the database holds personal data: readable by its user only
            engine = create_engine(url, future=True, **({"pool_use_lifo": True} if path is not None else {}))
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return create_engine(url, future=True, pool_pre_ping=True)


def is_encrypted(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite" and engine.dialect.dbapi.__name__.startswith("sqlcipher3")


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - trivial
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA busy_timeout=5000")
        cur.execute("PRAGMA cache_size=-65536")  # 64 MiB: random UUID keys make index pages hot
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.execute("PRAGMA secure_delete=ON")  # purged rows leave no bytes behind in free pages
        cur.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, future=True)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


# --- WAL checkpoints around bulk writes ----------------------------------------------------------

WAL_AUTOCHECKPOINT = 1000  # SQLite's default (pages), restored after a bulk write
_checkpointing: set[int] = set()
_checkpoint_lock = threading.Lock()


@contextmanager
def bulk_write(conn: Connection):
    """Around one large transaction on ``conn`` (a roster import): SQLite's automatic WAL
    checkpoint would otherwise run inside the final commit — copying every page just written
    from the WAL into the database file (≈ 0.7 s for 200,000 roster rows) while the caller waits.
    Here the commit only makes the WAL durable; the checkpoint then runs on a background thread
    (:func:`checkpoint_in_background`). A crash in between loses nothing: the WAL is the
    database until it is checkpointed. Other databases: no effect."""
    if conn.dialect.name != "sqlite":
        yield
        return
    raw = conn.connection.driver_connection
    raw.execute("PRAGMA wal_autocheckpoint=0")  # not a transaction statement: no implicit BEGIN
    try:
        yield
    finally:
        try:
            raw.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT}")
        except Exception:  # the connection is being discarded anyway
            pass
    checkpoint_in_background(conn.engine)


def checkpoint_in_background(engine: Engine) -> threading.Thread | None:
    """Copy the WAL into the database file on a daemon thread (PASSIVE: never blocks readers or
    writers; one at a time per engine). Returns the thread, or None when one is running."""
    if engine.dialect.name != "sqlite":
        return None
    with _checkpoint_lock:
        if id(engine) in _checkpointing:
            return None
        _checkpointing.add(id(engine))

    def run() -> None:
        try:
            with engine.connect() as c:
                c.connection.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                # closed, not pooled: the pool hands out its most recent connection first, and
                # this one's page cache is cold (with SQLCipher every cold page is a decryption)
                c.invalidate()
        except Exception:  # disposed engine, busy database: the next automatic checkpoint does it
            pass
        finally:
            with _checkpoint_lock:
                _checkpointing.discard(id(engine))

    t = threading.Thread(target=run, name="sqlite-checkpoint", daemon=True)
    t.start()
    return t
