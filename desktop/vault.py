"""Encryption at rest for face images and chip photos (个人信息保护法 第二十八条; 2025 face rules).

AES-256-GCM (``cryptography``) with a key the installation keeps *outside* the database: a key
file in the config directory, readable by its user only (``CERTDESK_DATA_KEY`` names another
path, e.g. on a removable token or a path managed by the OS keyring tooling of the bureau's IT).
A stolen database file without the key reveals no image. The bureau's IT deploys the same key
file to every workstation of the bureau so images synced to the central database stay readable
there; a lost key makes the images unreadable (by design) — back it up with the database.

Blobs are ``b"CDV1" + key_id(4) + nonce(12) + ciphertext+tag``; the associated data binds a blob
to its record id, so a ciphertext copied onto another record does not decrypt.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from desktop import paths
from desktop.errors import CertDeskError

MAGIC = b"CDV1"


class VaultError(CertDeskError):
    code = "vault_error"


def key_path() -> Path:
    override = os.environ.get("CERTDESK_DATA_KEY")
    return Path(override) if override else paths.config_dir() / "data-key"


def load_or_create_key(path: Path | None = None) -> bytes:
    path = path or key_path()
    if path.exists():
        try:
            key = bytes.fromhex(path.read_text(encoding="ascii").strip())
        except ValueError:
            raise VaultError("数据加密密钥文件已损坏，无法读取人脸图像", code="data_key_corrupt") from None
        if len(key) != 32:
            raise VaultError("数据加密密钥文件已损坏，无法读取人脸图像", code="data_key_corrupt")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = os.urandom(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key.hex())
    return key


class Vault:
    def __init__(self, key: bytes):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if len(key) != 32:
            raise ValueError("AES-256 needs a 32-byte key")
        self._aead = AESGCM(key)
        self.key_id = hashlib.sha256(b"certdesk-key-id" + key).digest()[:4]

    @classmethod
    def open(cls, path: Path | None = None) -> "Vault":
        return cls(load_or_create_key(path))

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
