"""The signed QR payload printed on an assist form (协助认证表) — Qt-free, no reportlab.

Payload (version 1), all characters in the QR *alphanumeric* set so the code stays small::

    CD1.<SERIAL>.<IDREF>.<YYYYMMDD>.<SIG>

- ``SERIAL``: the form's serial, ``[0-9A-Z-]{1,32}`` (e.g. ``XZ2026-000123``);
- ``IDREF``: a *keyed* reference to the person's ID number: the first 40 bits of
  HMAC-SHA256(key, "id|" + number) in base32 (8 characters). It lets the receiving clerk check
  that a form belongs to the person on screen without printing the number into the QR; because it
  is keyed, nobody without the installation key can enumerate ID numbers against it;
- ``YYYYMMDD``: the person's certification deadline printed on the form;
- ``SIG``: HMAC-SHA256(key, "certdesk-assist-form|" + everything before ``.SIG``), first 120 bits,
  base32 (24 characters). Compared in constant time (:func:`hmac.compare_digest`).

Version 2 (issue 15 §4) adds the **key id** of the central key that signed it, so keys can be
rotated and every form printed anywhere in the bureau verifies everywhere::

    CD2.<KID>.<SERIAL>.<IDREF>.<YYYYMMDD>.<SIG>

``KID`` is ``[0-9A-Z]{1,8}`` (``K1``, ``K2`` …); ``IDREF`` and ``SIG`` are made with that key, and
``SIG`` covers the key id. Keys are created and rotated centrally (``certdesk central keys
rotate``) and reach enrolled devices at sync (desktop/services/central.py) as a :class:`FormKeys`
ring: the newest signs, every one verifies. Version 1 (no key id, one installation key in
``qr-hmac.key``) still verifies where that key is present.

The functions take a *key provider*: a zero-argument callable returning the key bytes (v1), or a
:class:`FormKeys` ring (v2; it is also callable, returning the current key). Nothing here logs
personal data.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable

from desktop.errors import CertDeskError
from desktop.domain.idnumber import normalize as _normalize_id

KeyProvider = Callable[[], bytes]

PREFIX = "CD"
VERSION = 1
SIG_BYTES = 15  # 120 bits -> 24 base32 characters, no padding
IDREF_BYTES = 5  # 40 bits -> 8 base32 characters
MIN_KEY_BYTES = 16
KEY_BYTES = 32

SERIAL_RE = re.compile(r"^[0-9A-Z-]{1,32}$")
_B32 = "[A-Z2-7]"
_V1_RE = re.compile(
    rf"^CD1\.(?P<serial>[0-9A-Z-]{{1,32}})\.(?P<idref>{_B32}{{8}})\.(?P<deadline>\d{{8}})"
    rf"\.(?P<sig>{_B32}{{24}})$"
)
_V2_RE = re.compile(
    rf"^CD2\.(?P<kid>[0-9A-Z]{{1,8}})\.(?P<serial>[0-9A-Z-]{{1,32}})\.(?P<idref>{_B32}{{8}})\.(?P<deadline>\d{{8}})"
    rf"\.(?P<sig>{_B32}{{24}})$"
)
_VERSION_RE = re.compile(r"^CD(\d{1,3})\.")
VERSIONS = (1, 2)

# Stable reason codes -> message shown to the clerk.
REASONS = {
    "ok": "二维码有效",
    "empty": "未读取到二维码内容",
    "not_certdesk": "不是本系统打印的协助认证表二维码",
    "unknown_version": "二维码版本无法识别，请使用本系统重新打印认证表",
    "malformed": "二维码内容格式错误或不完整",
    "bad_signature": "二维码签名校验失败：认证表可能被伪造或篡改，或不是本机构打印",
    "no_key": "本机未配置二维码签名密钥，无法校验",
    "unknown_key": "本机没有签发这份认证表的密钥（密钥编号未知）：请先与中心同步后再校验",
}


class QrKeyError(CertDeskError):
    code = "qr_key_error"


@dataclass(frozen=True, slots=True)
class QrPayload:
    serial: str
    id_ref: str
    deadline: date
    version: int = VERSION
    key_id: str | None = None


class FormKeys:
    """A ring of central form keys: ``current_id`` signs, every key verifies its own forms.
    Calling it returns the current key (so it also works where a plain provider is expected)."""

    def __init__(self, keys: dict[str, bytes], current_id: str | None, legacy: KeyProvider | None = None,
                 loader: Callable[[], tuple[dict[str, bytes], str | None]] | None = None):
        self.keys = dict(keys)
        self.current_id = current_id if current_id in self.keys else None
        self.legacy = legacy  # the installation's version-1 key, if any (old forms)
        self._loader = loader  # re-reads the ring (keys distributed by a later sync)

    def refresh(self) -> None:
        if self._loader is not None:
            keys, current = self._loader()
            self.keys = dict(keys)
            self.current_id = current if current in self.keys else None

    def __call__(self) -> bytes:
        self.refresh()
        if self.current_id is None:
            raise QrKeyError("本机尚未从中心获得二维码签名密钥：请先登记本机（certdesk central enrol）并同步",
                             code="qr_key_missing")
        return self.keys[self.current_id]

    def key_for(self, key_id: str | None) -> bytes | None:
        if key_id is not None and key_id not in self.keys:
            self.refresh()
        if key_id is None:
            if self.legacy is None:
                return None
            try:
                return self.legacy()
            except QrKeyError:
                return None
        return self.keys.get(key_id)


def _provider_for(key_provider, key_id: str | None) -> KeyProvider | None:
    """The provider of the key that signed a payload with ``key_id`` (None for version 1)."""
    if isinstance(key_provider, FormKeys):
        key = key_provider.key_for(key_id)
        return None if key is None else (lambda: key)
    if key_id is not None:
        return None  # a single installation key cannot verify a centrally keyed form
    return key_provider


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    reason: str  # a key of REASONS; "ok" when valid
    payload: QrPayload | None = None  # set only when ok

    @property
    def message_zh(self) -> str:
        return REASONS.get(self.reason, self.reason)

    @property
    def serial(self) -> str | None:
        return self.payload.serial if self.payload else None

    def matches_id(self, id_number: str, key_provider: KeyProvider) -> bool:
        """Whether this (valid) form was issued for ``id_number`` (a foreign form is refused)."""
        if not self.ok or self.payload is None:
            return False
        return hmac.compare_digest(self.payload.id_ref, payload_id_reference(self.payload, id_number, key_provider))


def payload_id_reference(payload: QrPayload, id_number: str, key_provider) -> str:
    """The ID reference computed with the key that signed ``payload``."""
    provider = _provider_for(key_provider, payload.key_id)
    if provider is None:
        raise QrKeyError("没有签发这份认证表的密钥", code="qr_key_missing")
    return id_reference(id_number, provider)


# --------------------------------------------------------------------------- keys

def generate_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def generate_key_file(path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Create a new random key file (hex text, mode 0600). Refuses to replace an existing key
    unless ``overwrite`` — replacing it makes every form already printed unverifiable."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    try:
        fd = os.open(p, flags, 0o600)
    except FileExistsError:
        raise QrKeyError("二维码签名密钥文件已存在，不能覆盖", code="qr_key_exists") from None
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(generate_key().hex() + "\n")
    try:
        os.chmod(p, 0o600)
    except OSError:  # pragma: no cover - e.g. some Windows file systems
        pass
    return p


def load_key_file(path: str | os.PathLike) -> bytes:
    p = Path(path)
    try:
        text = p.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise QrKeyError("未找到二维码签名密钥文件", code="qr_key_missing") from None
    except (OSError, UnicodeDecodeError):
        raise QrKeyError("二维码签名密钥文件无法读取", code="qr_key_unreadable") from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise QrKeyError("二维码签名密钥文件已损坏", code="qr_key_corrupt") from None
    if len(key) < MIN_KEY_BYTES:
        raise QrKeyError("二维码签名密钥过短", code="qr_key_corrupt")
    return key


def load_or_create_key_file(path: str | os.PathLike) -> bytes:
    p = Path(path)
    if not p.exists():
        try:
            generate_key_file(p)
        except QrKeyError as exc:  # created concurrently by another process: use theirs
            if exc.code != "qr_key_exists":
                raise
    return load_key_file(p)


def file_key_provider(path: str | os.PathLike, *, create: bool = True) -> KeyProvider:
    """A key provider reading (and, if ``create``, first creating) the key file once."""
    cache: list[bytes] = []

    def provider() -> bytes:
        if not cache:
            cache.append(load_or_create_key_file(path) if create else load_key_file(path))
        return cache[0]

    return provider


def static_key_provider(key: bytes) -> KeyProvider:
    if len(key) < MIN_KEY_BYTES:
        raise QrKeyError("二维码签名密钥过短", code="qr_key_corrupt")
    return lambda: key


# --------------------------------------------------------------------------- payload

def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")


def _key(key_provider: KeyProvider) -> bytes:
    key = key_provider()
    if not isinstance(key, (bytes, bytearray)) or len(key) < MIN_KEY_BYTES:
        raise QrKeyError("二维码签名密钥无效", code="qr_key_corrupt")
    return bytes(key)


def id_reference(id_number: str, key_provider: KeyProvider) -> str:
    """Keyed 8-character reference to an ID number (not reversible without the key)."""
    number = _normalize_id(id_number)
    mac = hmac.new(_key(key_provider), b"id|" + number.encode("ascii", "replace"), hashlib.sha256)
    return _b32(mac.digest()[:IDREF_BYTES])


def _signature(body: str, key: bytes) -> str:
    mac = hmac.new(key, b"certdesk-assist-form|" + body.encode("ascii"), hashlib.sha256)
    return _b32(mac.digest()[:SIG_BYTES])


def normalize_serial(serial: str) -> str:
    s = (serial or "").strip().upper()
    if not SERIAL_RE.match(s):
        raise ValueError("serial must be 1-32 characters of 0-9, A-Z and '-'")
    return s


def make_payload(serial: str, id_number: str, deadline: date, key_provider: KeyProvider) -> str:
    """The signed text to print as the form's QR code: version 2 with the key id when
    ``key_provider`` is a central :class:`FormKeys` ring, else version 1."""
    key = _key(key_provider)
    ref = id_reference(id_number, lambda: key)
    if isinstance(key_provider, FormKeys):  # _key() above refreshed the ring
        body = f"{PREFIX}2.{key_provider.current_id}.{normalize_serial(serial)}.{ref}.{deadline:%Y%m%d}"
    else:
        body = f"{PREFIX}{VERSION}.{normalize_serial(serial)}.{ref}.{deadline:%Y%m%d}"
    return f"{body}.{_signature(body, key)}"


def parse_unverified(text: str) -> QrPayload | None:
    """Parse without checking the signature (for display only — never trust it)."""
    s = (text or "").strip()
    m = _V1_RE.match(s) or _V2_RE.match(s)
    if not m:
        return None
    try:
        d = date(int(m["deadline"][:4]), int(m["deadline"][4:6]), int(m["deadline"][6:]))
    except ValueError:
        return None
    v2 = s.startswith("CD2.")
    return QrPayload(m["serial"], m["idref"], d, 2 if v2 else 1, m["kid"] if v2 else None)


def verify(text: str, key_provider: KeyProvider) -> VerifyResult:
    """Check a scanned payload. Never raises for bad input; a missing key gives ``no_key``."""
    s = (text or "").strip()
    if not s:
        return VerifyResult(False, "empty")
    if not s.startswith(PREFIX):
        return VerifyResult(False, "not_certdesk")
    vm = _VERSION_RE.match(s)
    if vm is None:
        return VerifyResult(False, "malformed")
    if int(vm.group(1)) not in VERSIONS:
        return VerifyResult(False, "unknown_version")
    payload = parse_unverified(s)
    if payload is None:
        return VerifyResult(False, "malformed")
    provider = _provider_for(key_provider, payload.key_id)
    if provider is None:
        return VerifyResult(False, "unknown_key" if payload.key_id is not None else "no_key")
    try:
        key = _key(provider)
    except QrKeyError:
        return VerifyResult(False, "no_key")
    body, _, sig = s.rpartition(".")
    if not hmac.compare_digest(sig.encode("ascii"), _signature(body, key).encode("ascii")):
        return VerifyResult(False, "bad_signature")
    return VerifyResult(True, "ok", payload)
