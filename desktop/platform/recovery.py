"""Recovering a laptop whose OS account was lost: the database key escrowed for the centre.

The local database is encrypted under this OS account's ``database-key`` (desktop/platform/keystore.py).
When the account goes (a reinstalled Windows, a deleted profile, a forgotten password reset by
IT) so does its key store, and with it the key. So that IT can still open the data folder, the
bureau makes one *recovery key pair* (``certdesk recovery keygen``): the private key stays at the
centre (offline, passphrase-protected); the public key is deployed to every workstation and laptop
as ``recovery-public.pem`` in the config folder (or the path in ``CERTDESK_RECOVERY_PUBLIC_KEY``).

Whenever a database is opened and the public key is present, its key is *wrapped* for the centre
(X25519 key agreement with a fresh ephemeral key, HKDF-SHA256, AES-256-GCM) into
``<database>.key-escrow`` beside the database file. The escrow is useless without the centre's
private key, which no workstation holds. ``certdesk recovery unlock --private-key FILE``
(run by IT under the new account) unwraps the old key, re-encrypts the database under the new
account's key (verified, crash-safe: db/encryption.py) and writes a new escrow.

A backup made by ``certdesk backup`` carries its own escrow file too.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

from desktop.platform import paths
from desktop.errors import NotFound, UserFacingError

ESCROW_SUFFIX = ".key-escrow"
PUBLIC_NAME = "recovery-public.pem"
ALG = "X25519-HKDF-SHA256-AES256GCM"
_INFO = b"certdesk database key escrow v1"


class RecoveryError(UserFacingError):
    code = "recovery_failed"


def public_key_path() -> Path:
    override = os.environ.get("CERTDESK_RECOVERY_PUBLIC_KEY")
    return Path(override) if override else paths.config_dir() / PUBLIC_NAME


def escrow_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ESCROW_SUFFIX)


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"certdesk-database-key-id" + key).hexdigest()[:16]


def _raw_public(pub) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(pub) -> str:
    return hashlib.sha256(_raw_public(pub)).hexdigest()[:16]


def _kek(shared: bytes, epk: bytes, recipient: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(hashes.SHA256(), 32, salt=epk + recipient, info=_INFO).derive(shared)


def wrap(key: bytes, pub) -> dict:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    eph = X25519PrivateKey.generate()
    epk = _raw_public(eph.public_key())
    kek = _kek(eph.exchange(pub), epk, _raw_public(pub))
    nonce = os.urandom(12)
    ct = AESGCM(kek).encrypt(nonce, key, _INFO)
    b64 = lambda b: base64.b64encode(b).decode("ascii")  # noqa: E731
    return {"v": 1, "alg": ALG, "recipient": fingerprint(pub), "key_id": key_id(key),
            "epk": b64(epk), "nonce": b64(nonce), "ct": b64(ct)}


def unwrap(doc: dict, private) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if doc.get("alg") != ALG or doc.get("recipient") != fingerprint(private.public_key()):
        raise RecoveryError("恢复私钥与该数据库的托管密钥不匹配（不是本局的恢复密钥）", code="escrow_wrong_recipient")
    try:
        epk = base64.b64decode(doc["epk"])
        kek = _kek(private.exchange(X25519PublicKey.from_public_bytes(epk)), epk, _raw_public(private.public_key()))
        key = AESGCM(kek).decrypt(base64.b64decode(doc["nonce"]), base64.b64decode(doc["ct"]), _INFO)
    except (KeyError, ValueError, InvalidTag):
        raise RecoveryError("托管密钥文件已损坏或被篡改", code="escrow_corrupt") from None
    if key_id(key) != doc.get("key_id"):
        raise RecoveryError("托管密钥文件已损坏或被篡改", code="escrow_corrupt")
    return key


def load_public() -> object | None:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    path = public_key_path()
    if not path.is_file():
        return None
    try:
        pub = load_pem_public_key(path.read_bytes())
    except ValueError:
        raise RecoveryError(f"恢复公钥文件无法读取：{path}", code="recovery_public_key_bad") from None
    if not isinstance(pub, X25519PublicKey):
        raise RecoveryError(f"恢复公钥不是 X25519 密钥：{path}", code="recovery_public_key_bad")
    return pub


def ensure_escrow(db_path: Path | None, key: bytes) -> Path | None:
    """Write ``<db_path>.key-escrow`` when a recovery public key is deployed and the escrow is
    missing or stale (another key, another recipient). Returns the escrow's path, if any."""
    if db_path is None:
        return None
    pub = load_public()
    if pub is None:
        return None
    esc = escrow_path(db_path)
    try:
        doc = json.loads(esc.read_text(encoding="utf-8"))
        if doc.get("key_id") == key_id(key) and doc.get("recipient") == fingerprint(pub):
            return esc
    except (OSError, ValueError):
        pass
    from desktop.platform.vault import write_private

    write_private(esc, json.dumps(wrap(key, pub), indent=1).encode("utf-8"))
    return esc


def keygen(private_out: Path, public_out: Path, passphrase: bytes) -> str:
    """The bureau's recovery key pair: the private key PEM encrypted under ``passphrase``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    if len(passphrase) < 12:
        raise RecoveryError("恢复私钥的口令至少 12 个字符", code="passphrase_too_short")
    for p in (private_out, public_out):
        if p.exists():
            raise RecoveryError(f"文件已存在，不会覆盖：{p}", code="file_exists")
    private = X25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.BestAvailableEncryption(passphrase))
    from desktop.platform.vault import write_private

    write_private(private_out, pem)
    public_out.parent.mkdir(parents=True, exist_ok=True)
    public_out.write_bytes(private.public_key().public_bytes(serialization.Encoding.PEM,
                                                             serialization.PublicFormat.SubjectPublicKeyInfo))
    return fingerprint(private.public_key())


def load_private(path: Path, passphrase: bytes):
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    if not path.is_file():
        raise NotFound(f"找不到恢复私钥文件：{path}", code="file_not_found")
    try:
        private = load_pem_private_key(path.read_bytes(), passphrase or None)
    except (ValueError, TypeError):
        raise RecoveryError("恢复私钥的口令不正确，或文件不是恢复私钥", code="recovery_private_key_bad") from None
    if not isinstance(private, X25519PrivateKey):
        raise RecoveryError("恢复私钥不是 X25519 密钥", code="recovery_private_key_bad")
    return private


def unlock(db_path: Path, private) -> dict:
    """Re-encrypt ``db_path`` (escrowed for ``private``) under this OS account's database key."""
    from db import encryption
    from desktop.platform import keystore

    esc = escrow_path(db_path)
    if not db_path.is_file():
        raise NotFound(f"找不到数据库文件：{db_path}", code="file_not_found")
    if not esc.is_file():
        raise NotFound(f"找不到托管密钥文件：{esc}（该数据库没有托管密钥，只能从中心重新同步）", code="escrow_not_found")
    try:
        doc = json.loads(esc.read_text(encoding="utf-8"))
    except ValueError:
        raise RecoveryError("托管密钥文件已损坏或被篡改", code="escrow_corrupt") from None
    old = unwrap(doc, private)
    new = keystore.get_key(keystore.DATABASE_KEY)
    try:
        with encryption.migration_lock(db_path):
            if old == new:
                counts = encryption.open_verified(db_path, new)
            else:
                counts = encryption.reencrypt(db_path, old, new)
    except encryption.EncryptionError as exc:
        if exc.code == "busy":
            raise RecoveryError("数据库正被另一个程序使用：请先关闭 CertDesk", code="database_busy") from None
        raise RecoveryError("托管密钥打不开该数据库（数据库文件已被替换或损坏）", code="escrow_mismatch") from None
    ensure_escrow(db_path, new)
    if encryption.mac_path(db_path).exists():  # a backup: its MAC follows the new key
        encryption.write_mac(db_path, new)
    return {"database": str(db_path), "rekeyed": old != new, "tables": len(counts), "rows": sum(counts.values())}
