"""Device secrets in the operating system's key store (issue 15 §3, docs: SECURITY.md).

An enrolled workstation holds three secrets of its own: the password of its PostgreSQL role at
the centre, the key that MACs its audit events, and the form-signing keys the centre distributed.
Every installation also keeps two encryption keys here (issue 16): ``database-key``, which
encrypts the local SQLite database and its backups (db/encryption.py), and ``data-key``, the
bureau's key for face images and returned-form scans (desktop/platform/vault.py).
They live in the OS key store through the maintained ``keyring`` library — Windows Credential
Manager (DPAPI, per user) or the Secret Service on Linux — never in the database and never in a
file next to it, so a copied database (a thief's disk image, a cloned PC) carries none of them.

Where no key store exists (CI, a container, a server without a desktop session), production
refuses with a clear message; demo and test mode fall back to a store held in this process's
memory only (file-less: nothing is written anywhere). ``CERTDESK_KEYSTORE=memory`` asks for that
fallback explicitly (refused in production).

The two encryption keys are never held in memory-only or file fallbacks in production: without a
key store a production start refuses. Demo and test mode use fixed, published *simulation* keys
(:func:`simulation_key` — not secrets, their data is synthetic), so a demo database and the test
suite's subprocesses open the same files across processes.

Names are scoped by the device id *and* the installation id, so two databases on one machine (a
test, a second copy for training) never share a secret by accident.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading

from desktop.platform import runmode
from desktop.errors import UserFacingError

log = logging.getLogger(__name__)

SERVICE = "CertDesk"
_memory: dict[tuple[str, str], str] = {}
_lock = threading.Lock()


class KeyStoreUnavailable(UserFacingError):
    code = "keystore_unavailable"


def _memory_only() -> bool:
    if os.environ.get("CERTDESK_KEYSTORE", "").lower() == "memory":
        if not runmode.simulation_allowed():
            raise KeyStoreUnavailable("CERTDESK_KEYSTORE=memory 只能在演示或测试模式下使用")
        return True
    return False


def _keyring():
    """The keyring backend, or None when the machine has no usable key store."""
    try:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
    except Exception as exc:  # noqa: BLE001 - a broken backend is the same as none
        log.warning("keystore: keyring unusable (%s)", type(exc).__name__)
        return None
    if isinstance(backend, fail.Keyring):
        return None
    return backend


def _unavailable() -> KeyStoreUnavailable:
    return KeyStoreUnavailable(
        "本机没有可用的系统密钥库（Windows 凭据管理器 / Linux Secret Service），无法保存本机的中心凭据和密钥。"
        "请在已登录的桌面会话中运行，或联系信息科", code="keystore_unavailable")


def backend_name() -> str:
    if _memory_only():
        return "memory"
    backend = _keyring()
    if backend is None:
        return "memory" if runmode.simulation_allowed() else "none"
    return f"{type(backend).__module__}.{type(backend).__name__}"


def _call(op: str, name: str, value: str | None = None):
    if not _memory_only():
        backend = _keyring()
        if backend is not None:
            try:
                if op == "get":
                    return backend.get_password(SERVICE, name)
                if op == "set":
                    return backend.set_password(SERVICE, name, value)
                try:
                    return backend.delete_password(SERVICE, name)
                except Exception:  # noqa: BLE001 - deleting what is not there
                    return None
            except Exception as exc:  # noqa: BLE001 - e.g. a locked or absent Secret Service
                log.warning("keystore: %s failed (%s)", op, type(exc).__name__)
                if not runmode.simulation_allowed():
                    raise _unavailable() from exc
        elif not runmode.simulation_allowed():
            raise _unavailable()
    with _lock:
        if op == "get":
            return _memory.get((SERVICE, name))
        if op == "set":
            _memory[(SERVICE, name)] = value
            return None
        _memory.pop((SERVICE, name), None)
        return None


def get_secret(name: str) -> str | None:
    return _call("get", name)


def set_secret(name: str, value: str) -> None:
    _call("set", name, value)


def delete_secret(name: str) -> None:
    _call("delete", name)


def secret_name(kind: str, device_id: str, install_id: str) -> str:
    """``kind`` is ``pg`` (central password), ``audit`` (audit MAC key) or ``forms`` (form keys)."""
    return f"{kind}:{device_id}:{install_id}"


def forget_memory() -> None:
    """Tests: drop the in-memory fallback store."""
    with _lock:
        _memory.clear()


# --- encryption keys (issue 16) ---------------------------------------------------------------

DATABASE_KEY = "database-key"  # the local SQLite database(s) of this OS account and their backups
DATA_KEY = "data-key"  # face images and returned-form scans: the bureau's image key

_KEY_REFUSAL = {
    DATABASE_KEY: "本机没有可用的系统密钥库（Windows 凭据管理器 / Linux Secret Service），无法打开加密的本地数据库。"
                  "数据库的密钥只保存在系统密钥库中，程序不会把它写成文件。请在已登录的桌面会话中运行，或联系信息科",
    DATA_KEY: "本机没有可用的系统密钥库（Windows 凭据管理器 / Linux Secret Service），无法读取人脸图像和扫描件的密钥。"
              "请在已登录的桌面会话中运行，或联系信息科",
}


def simulation_key(name: str) -> bytes:
    """Demo and test mode's fixed key for ``name`` (published here: protects synthetic data only)."""
    return hashlib.sha256(b"CertDesk simulation key, not a secret: " + name.encode()).digest()


def _refuse(name: str, cause: Exception | None = None) -> KeyStoreUnavailable:
    exc = KeyStoreUnavailable(_KEY_REFUSAL.get(name, _KEY_REFUSAL[DATABASE_KEY]), code="keystore_unavailable")
    if cause is not None:
        exc.__cause__ = cause
    return exc


def get_key(name: str, *, create: bool = True) -> bytes | None:
    """The 256-bit key ``name`` from the OS key store, made (and read back) on first use.

    Demo/test mode: :func:`simulation_key`. Production without a usable key store raises
    :class:`KeyStoreUnavailable` with a Chinese message — nothing is written anywhere."""
    if runmode.simulation_allowed():
        with _lock:  # a key put by this process (recovery tests) wins over the fixed one
            held = _memory.get((SERVICE, name))
        return bytes.fromhex(held) if held else simulation_key(name)
    try:
        value = get_secret(name)
        if value is None:
            if not create:
                return None
            key = os.urandom(32)
            set_secret(name, key.hex())
            if get_secret(name) != key.hex():  # a store that accepts and forgets is no store
                raise _refuse(name)
            log.info("keystore: created %s", name)
            return key
    except KeyStoreUnavailable as exc:
        raise _refuse(name, exc) from exc
    try:
        key = bytes.fromhex(value)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise KeyStoreUnavailable(f"系统密钥库中的密钥 {name} 已损坏，请联系信息科用恢复密钥恢复", code="key_corrupt")
    return key


def put_key(name: str, key: bytes) -> None:
    """Store ``key`` as ``name`` (recovery, the first import of a deployed image key)."""
    if len(key) != 32:
        raise ValueError("keys are 32 bytes")
    if runmode.simulation_allowed():  # this process only (never the OS store of a developer)
        with _lock:
            _memory[(SERVICE, name)] = key.hex()
        return
    try:
        set_secret(name, key.hex())
        if get_secret(name) != key.hex():
            raise _refuse(name)
    except KeyStoreUnavailable as exc:
        raise _refuse(name, exc) from exc
