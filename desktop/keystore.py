"""Device secrets in the operating system's key store (issue 15 §3, docs: SECURITY.md).

An enrolled workstation holds three secrets of its own: the password of its PostgreSQL role at
the centre, the key that MACs its audit events, and the form-signing keys the centre distributed.
They live in the OS key store through the maintained ``keyring`` library — Windows Credential
Manager (DPAPI, per user) or the Secret Service on Linux — never in the database and never in a
file next to it, so a copied database (a thief's disk image, a cloned PC) carries none of them.

Where no key store exists (CI, a container, a server without a desktop session), production
refuses with a clear message; demo and test mode fall back to a store held in this process's
memory only (file-less: nothing is written anywhere). ``CERTDESK_KEYSTORE=memory`` asks for that
fallback explicitly (refused in production).

Names are scoped by the device id *and* the installation id, so two databases on one machine (a
test, a second copy for training) never share a secret by accident.
"""

from __future__ import annotations

import logging
import os
import threading

from desktop import runmode
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
