"""The local SQLite database encrypted at rest: SQLCipher 4 through the ``sqlcipher3`` wheel.

Why this driver (issue 16; SECURITY.md says the same for IT):

* ``sqlcipher3`` (SQLCipher 4, maintained by the author of pysqlite3) is a copy of Python's own
  ``sqlite3`` module linked against SQLCipher, published as binary wheels for Linux (manylinux
  2.28, musllinux), Windows and macOS, CPython 3.11–3.13 — ``uv sync`` installs it, no Debian
  package, no compiler. Being the ``sqlite3`` API it keeps every DB-API call the payroll and
  import fast paths make on the raw connection (``execute`` on the connection, ``executemany``
  with generators, temp tables, ``create_function``, the backup API) and SQLAlchemy's own
  ``pysqlite`` dialect runs on it unchanged (``module=`` plus a connection ``creator``).
* ``apsw-sqlite3mc`` (SQLite3 Multiple Ciphers) was evaluated and not chosen: APSW is not a
  DB-API module (no ``commit``/``rollback``/``isolation_level``, autocommit by default) and
  SQLAlchemy has no APSW dialect, so every raw-cursor path and the ORM would need an adapter.
* SQLAlchemy's ``sqlite+pysqlcipher`` dialect is not used either: it forces a
  ``SingletonThreadPool`` (one connection per thread — the background WAL checkpoint and the
  worker threads expect a QueuePool) and wants the passphrase in the URL, where it could be
  printed. Here the key is a raw 256-bit key (``PRAGMA key = "x'…'"``: no PBKDF2 on each
  connection) handed to the creator, never part of a URL.

Pages (and WAL frames) are AES-256-CBC (SQLCipher 4's defaults, without the per-page HMAC: see
``PAGE_HMAC`` for the measured reason). The key itself is the caller's business
(desktop/platform/keystore.py: the OS key store).

A plaintext database found at start is migrated in place (:func:`prepare`): exported into an
encrypted copy beside it, the copy verified (``integrity_check``, the row count of every
table), then atomically put in its place. The plaintext is kept under a
second name until the encrypted file is in place and is then overwritten and removed. A crash at
any moment leaves either the plaintext database or the verified encrypted one at the path.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

PLAINTEXT_MAGIC = b"SQLite format 3\x00"
# SQLCipher 4's defaults (AES-256-CBC, 4 KiB pages, a random IV per page write) WITHOUT the
# per-page HMAC. Measured (bench/README.md, 200,000 entitlements, 228 MB, payroll read cold as
# `certdesk payroll` reads it): plaintext 0.48 s CPU, no HMAC 0.48 s, HMAC-SHA256 0.67 s (+39 %),
# HMAC-SHA512 (the default) 0.85 s (+77 %) — the HMAC, not AES, is the cost, and the issue's
# budget is 15 %. What the HMAC adds is tamper detection of single pages by someone who can
# *write* the disk; what this encryption is for is disclosure (a stolen or copied laptop). The
# record of what was done stays tamper-evident by the audit chain (hash chain, device MAC,
# central checkpoints); backups are verified by integrity_check and a row count of every table
# against the snapshot they were copied from. Changing this later needs ``reencrypt`` of every
# existing database and backup (a file is only readable with the settings it was written with).
PAGE_HMAC = "OFF"
TMP_SUFFIX = "-encrypting"
PLAINTEXT_SUFFIX = "-plaintext"
LOCK_SUFFIX = "-migrate.lock"


class EncryptionError(Exception):
    """A database file that cannot be opened, verified or migrated (``code`` says why)."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


def dbapi():
    from sqlcipher3 import dbapi2

    return dbapi2


def key_pragma(key: bytes) -> str:
    if len(key) != 32:
        raise ValueError("the database key is 32 bytes")
    return f"\"x'{key.hex()}'\""


def connect(path: str | os.PathLike, key: bytes | None, **kwargs):
    """A DB-API connection to ``path``, keyed before its first statement (``key`` None: plaintext)."""
    conn = dbapi().connect(str(path), **kwargs)
    # SQLCipher logs a failed page HMAC (a wrong key) to stderr; the caller reports it instead
    conn.execute("PRAGMA cipher_log_level = NONE").fetchall()
    # every database this process keys (main or ATTACHed) uses the same settings (see PAGE_HMAC)
    conn.execute(f"PRAGMA cipher_default_use_hmac = {PAGE_HMAC}").fetchall()
    if key is not None:
        conn.execute(f"PRAGMA key = {key_pragma(key)}")
    return conn


def creator(path: str, key: bytes) -> Callable[[], object]:
    """SQLAlchemy ``creator=`` for an encrypted file (file databases are shared across threads)."""

    def make():
        return connect(path, key, check_same_thread=False)

    return make


def is_plaintext(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(16) == PLAINTEXT_MAGIC
    except OSError:
        return False


def create_private(path: Path) -> None:
    """An empty file readable by its user only (the database, a backup, a temporary copy)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    try:
        os.chmod(path, 0o600)
    except OSError:  # pragma: no cover - e.g. a file system without modes
        pass


def shred(path: Path) -> None:
    """Overwrite a file's bytes with zeros, flush, then remove it (best effort on SSDs and
    copy-on-write file systems: full-disk encryption stays recommended, SECURITY.md)."""
    try:
        size = path.stat().st_size
        with open(path, "r+b", buffering=0) as fh:
            chunk = b"\0" * (1 << 20)
            done = 0
            while done < size:
                n = min(len(chunk), size - done)
                fh.write(chunk[:n])
                done += n
            os.fsync(fh.fileno())
    except OSError:
        pass
    try:
        path.unlink()
    except OSError:  # gone already, or open elsewhere (Windows): the next start tries again
        pass


def _fsync_dir(folder: Path) -> None:
    if os.name == "nt":  # directories cannot be opened for fsync on Windows
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def row_counts(conn, schema: str = "main") -> dict[str, int]:
    names = [r[0] for r in conn.execute(
        f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {n: conn.execute(f'SELECT count(*) FROM {schema}."{n}"').fetchone()[0] for n in names}


def check(conn) -> None:
    """Raise unless the open database passes SQLite's full integrity check."""
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    except dbapi().DatabaseError as exc:
        raise EncryptionError("unreadable", type(exc).__name__) from None
    if rows != ["ok"]:
        raise EncryptionError("integrity", "; ".join(map(str, rows[:3])))


def open_verified(path: Path, key: bytes | None, expect_counts: dict[str, int] | None = None) -> dict[str, int]:
    """Open ``path`` with ``key``, run the checks, return the row count of every table."""
    if not path.is_file():
        raise EncryptionError("not_found", str(path))
    if key is not None and is_plaintext(path):
        raise EncryptionError("plaintext", str(path))
    conn = connect(path, key)
    try:
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except dbapi().DatabaseError:
            raise EncryptionError("wrong_key", str(path)) from None
        check(conn)
        counts = row_counts(conn)
    finally:
        conn.close()
    if expect_counts is not None and counts != expect_counts:
        differ = sorted(k for k in set(counts) | set(expect_counts) if counts.get(k) != expect_counts.get(k))
        raise EncryptionError("row_counts", ", ".join(differ[:5]))
    return counts


def can_open(path: Path, key: bytes) -> bool:
    conn = connect(path, key)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return True
    except dbapi().DatabaseError:
        return False
    finally:
        conn.close()


def _leftovers(path: Path) -> None:
    """Clean up after a migration that was interrupted (a crash, a power cut)."""
    tmp = path.with_name(path.name + TMP_SUFFIX)
    link = path.with_name(path.name + PLAINTEXT_SUFFIX)
    if link.exists():
        if path.exists() and os.path.samefile(link, path):
            link.unlink()  # the plaintext is still the database: only its second name goes
        elif path.exists():
            shred(link)  # the encrypted copy is in place: the plaintext goes for good
        else:  # pragma: no cover - nothing at the path (moved away by hand): put the plaintext back
            os.replace(link, path)
    if tmp.exists():
        tmp.unlink()  # an unfinished export: the plaintext at the path is untouched


def reencrypt(path: Path, old_key: bytes | None, new_key: bytes, *,
              after_export: Callable[[], None] | None = None) -> dict[str, int]:
    """Rewrite ``path`` under ``new_key`` (``old_key`` None: a plaintext database), crash-safe.

    Needs the database closed by everyone else. Returns the verified row counts."""
    tmp = path.with_name(path.name + TMP_SUFFIX)
    link = path.with_name(path.name + PLAINTEXT_SUFFIX)
    src = connect(path, old_key, isolation_level=None)
    try:
        src.execute("PRAGMA busy_timeout=10000")
        try:
            # out of WAL mode: the main file holds everything, no -wal/-shm stays behind
            src.execute("PRAGMA journal_mode=DELETE").fetchall()
        except dbapi().OperationalError:
            raise EncryptionError("busy", str(path)) from None
        except dbapi().DatabaseError:
            raise EncryptionError("wrong_key", str(path)) from None
        counts = row_counts(src)
        if tmp.exists():
            tmp.unlink()
        create_private(tmp)
        src.execute(f"ATTACH DATABASE ? AS enc KEY {key_pragma(new_key)}", (str(tmp),))
        src.execute("SELECT sqlcipher_export('enc')").fetchall()
        version = src.execute("PRAGMA main.user_version").fetchone()[0]
        src.execute(f"PRAGMA enc.user_version = {int(version)}")
        src.execute("DETACH DATABASE enc")
    finally:
        src.close()
    if after_export is not None:
        after_export()
    open_verified(tmp, new_key, counts)
    try:
        os.link(path, link)  # the old file keeps a second name until the new one is in place
    except OSError:  # a file system without hard links (FAT on a USB stick): replaced, not shredded
        link = None
    os.replace(tmp, path)
    _fsync_dir(path.parent)
    if link is not None:
        shred(link)
    return counts


@contextmanager
def migration_lock(path: Path):
    """One process at a time looks at (and migrates) ``path``: an OS lock on ``<path>-migrate.lock``
    (flock / msvcrt; released by the OS if the process dies). A second start waits for the first
    one's migration instead of taking its half-written copy for a leftover."""
    lock = path.with_name(path.name + LOCK_SUFFIX)
    create_private(lock)
    with open(lock, "r+b") as fh:
        if os.name == "nt":  # pragma: no cover - Windows
            import msvcrt

            while True:
                try:
                    msvcrt.locking(fh.fileno(), msvcrt.LK_LOCK, 1)  # retries for 10 s, then raises
                    break
                except OSError:
                    continue
        else:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if os.name == "nt":  # pragma: no cover - Windows
                import msvcrt

                fh.seek(0)
                msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
            else:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def prepare(path: Path, key: bytes) -> str:
    """Before an engine opens ``path``: ``"new"`` (no database yet), ``"migrated"`` (a plaintext
    database was encrypted in place) or ``"encrypted"``. Raises ``EncryptionError("wrong_key")``
    when the file is encrypted under another key."""
    with migration_lock(path):
        _leftovers(path)
        if not path.exists() or path.stat().st_size == 0:
            return "new"
        if is_plaintext(path):
            reencrypt(path, None, key)
            return "migrated"
        if not can_open(path, key):
            raise EncryptionError("wrong_key", str(path))
        return "encrypted"


def backup_to(source_conn, dest: Path, key: bytes) -> dict[str, int]:
    """Copy the live database (an open, keyed DB-API connection) into ``dest`` under the same
    key with SQLite's online backup API, verify the copy (integrity_check, and every table's row
    count equal to the snapshot it was copied from), and only then move it to ``dest``. Beside it
    goes ``<dest>.mac``: an HMAC-SHA256 of the whole file under a key derived from ``key``, which
    a restore checks first (the pages carry no HMAC of their own: ``PAGE_HMAC``)."""
    tmp = dest.with_name(dest.name + ".partial")
    if tmp.exists():
        tmp.unlink()
    create_private(tmp)
    target = connect(tmp, key)
    try:
        source_conn.execute("BEGIN")  # one snapshot: counted, then copied (the backup uses it)
        try:
            counts = row_counts(source_conn)
            source_conn.backup(target)
        finally:
            source_conn.execute("ROLLBACK")
        target.execute("PRAGMA journal_mode=DELETE").fetchall()
    finally:
        target.close()
    try:
        open_verified(tmp, key, counts)
    except EncryptionError:
        tmp.unlink()
        raise
    write_mac(tmp, key, mac_path(dest))
    os.replace(tmp, dest)
    _fsync_dir(dest.parent)
    return counts


def mac_path(path: Path) -> Path:
    return path.with_name(path.name + ".mac")


def file_mac(path: Path, key: bytes) -> str:
    import hashlib
    import hmac

    mac = hmac.new(hashlib.sha256(b"certdesk backup mac v1" + key).digest(), digestmod="sha256")
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            mac.update(chunk)
    return mac.hexdigest()


def write_mac(path: Path, key: bytes, dest: Path | None = None) -> Path:
    """Write ``<path>.mac`` (or ``dest``) for the file ``path`` as it is now (0600)."""
    import json

    dest = dest or mac_path(path)
    tmp = dest.with_name(dest.name + ".part")
    create_private(tmp)
    tmp.write_text(json.dumps({"v": 1, "alg": "HMAC-SHA256", "bytes": path.stat().st_size,
                               "mac": file_mac(path, key)}), encoding="utf-8")
    os.replace(tmp, dest)
    return dest


def check_mac(path: Path, key: bytes) -> None:
    """Raise unless ``<path>.mac`` exists and matches the file under ``key``."""
    import hmac
    import json

    try:
        doc = json.loads(mac_path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EncryptionError("no_mac", str(path)) from None
    except ValueError:
        raise EncryptionError("integrity", "mac file") from None
    if not hmac.compare_digest(str(doc.get("mac", "")), file_mac(path, key)):
        # another key (another account's backup) or a changed file: the key decides which
        raise EncryptionError("integrity" if can_open(path, key) else "wrong_key", str(path))


def restore_from(source: Path, key: bytes, target_conn, *, require_tables: tuple[str, ...] = ()) -> dict[str, int]:
    """Check ``source`` (a backup under ``key``) completely — its ``.mac``, integrity_check, the
    tables a CertDesk database has — then copy it over the live database through the backup API
    (atomic for every other connection). Nothing is replaced when a check fails."""
    if is_plaintext(source):
        raise EncryptionError("plaintext", str(source))
    if not can_open(source, key):
        raise EncryptionError("wrong_key", str(source))
    check_mac(source, key)
    counts = open_verified(source, key)
    missing = [t for t in require_tables if t not in counts]
    if missing:
        raise EncryptionError("not_certdesk", ", ".join(missing))
    src = connect(source, key)
    try:
        src.backup(target_conn)
    finally:
        src.close()
    return counts
