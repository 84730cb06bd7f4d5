"""Encryption at rest for face images, chip photos and returned-form scans (个人信息保护法 第二十八条;
2025 face rules; issue 16).

AES-256-GCM (``cryptography``) with the bureau's image key, held by the OS key store under
``data-key`` (desktop/platform/keystore.py: Windows Credential Manager/DPAPI, the Secret Service on Linux)
— never in the database and never in a file beside it. A stolen data folder reveals no image and
no scan. Images sync to the central database as ciphertext, so every workstation of the bureau
holds the *same* image key: IT deploys it once per workstation by putting the key file
(``data-key``, 64 hex digits) into the config folder, or naming it with ``CERTDESK_DATA_KEY``; at
the next start the key moves into the OS key store and a file in the config folder is
overwritten and removed (SECURITY.md). Installations of earlier versions migrate the same way.

Blobs are ``b"CDV1" + key_id(4) + nonce(12) + ciphertext+tag``; the associated data binds a blob
to its record id (a face image's id, a scan's path), so a ciphertext copied onto another record
does not decrypt. Files are written readable by their user only (0600).
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from desktop.platform import keystore, paths
from desktop.errors import CertDeskError

log = logging.getLogger(__name__)
MAGIC = b"CDV1"


class VaultError(CertDeskError):
    code = "vault_error"


def key_path() -> Path:
    """Where a deployed (or legacy) image key file is looked for."""
    override = os.environ.get("CERTDESK_DATA_KEY")
    return Path(override) if override else paths.config_dir() / "data-key"


def _read_key_file(path: Path) -> bytes:
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (ValueError, UnicodeDecodeError):
        key = b""
    if len(key) != 32:
        raise VaultError("数据加密密钥文件已损坏，无法读取人脸图像", code="data_key_corrupt")
    return key


def load_or_create_key(path: Path) -> bytes:
    """A key kept in an explicit file (tests, tools); the installation's own key is
    :func:`image_key`."""
    if path.exists():
        return _read_key_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = os.urandom(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key.hex())
    return key


def image_key() -> bytes:
    """The bureau's image key from the OS key store; a deployed key file is taken in first."""
    deployed = key_path()
    if deployed.is_file():
        from desktop.platform import runmode

        file_key = _read_key_file(deployed)
        if runmode.simulation_allowed():  # demo/test: the file is used as it is, and left alone
            return file_key
        held = keystore.get_key(keystore.DATA_KEY, create=False)
        if held is None:
            keystore.put_key(keystore.DATA_KEY, file_key)
            held = file_key
            log.info("vault: the image key file was moved into the OS key store")
        elif held != file_key:
            log.warning("vault: a key file differs from the key store's image key; the key store's is used")
        if "CERTDESK_DATA_KEY" not in os.environ:
            from db.encryption import shred

            shred(deployed)  # the config folder keeps no key
        return held
    return keystore.get_key(keystore.DATA_KEY)


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, readable by its user only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class Vault:
    def __init__(self, key: bytes):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if len(key) != 32:
            raise ValueError("AES-256 needs a 32-byte key")
        self._aead = AESGCM(key)
        self.key_id = hashlib.sha256(b"certdesk-key-id" + key).digest()[:4]

    @classmethod
    def open(cls, path: Path | None = None) -> "Vault":
        """The installation's vault (key from the OS key store), or one keyed by a key file."""
        return cls(load_or_create_key(path) if path is not None else image_key())

    def encrypt(self, plaintext: bytes, record_id: str) -> bytes:
        nonce = os.urandom(12)
        return MAGIC + self.key_id + nonce + self._aead.encrypt(nonce, plaintext, record_id.encode())

    def decrypt(self, blob: bytes, record_id: str) -> bytes:
        from cryptography.exceptions import InvalidTag

        if blob[:4] != MAGIC or len(blob) < 4 + 4 + 12 + 16:
            raise VaultError("图像数据格式错误", code="vault_format")
        if blob[4:8] != self.key_id:
            raise VaultError("图像由另一把密钥加密，本机无法读取", code="vault_wrong_key")
        try:
            return self._aead.decrypt(blob[8:20], blob[20:], record_id.encode())
        except InvalidTag:
            raise VaultError("图像数据已被篡改或不属于该记录", code="vault_tampered") from None

    def seal_file(self, source: Path, dest: Path, record_id: str) -> None:
        """Encrypt the file ``source`` into ``dest`` (0600), bound to ``record_id``."""
        write_private(dest, self.encrypt(Path(source).read_bytes(), record_id))

    def open_file(self, path: Path, record_id: str) -> bytes:
        return self.decrypt(Path(path).read_bytes(), record_id)


# --- returned-form scans (data/scans/…; issue 16) -------------------------------------------------

def seal_scan(source: str | os.PathLike, dest: Path) -> None:
    """Keep a returned form's scan at ``dest`` encrypted under the image key (0600), bound to
    its file name (serial and number: unique)."""
    Vault.open().seal_file(Path(source), dest, "scan:" + dest.name)


def open_scan(path: str | os.PathLike) -> bytes:
    """The original bytes of a kept scan."""
    path = Path(path)
    return Vault.open().open_file(path, "scan:" + path.name)
