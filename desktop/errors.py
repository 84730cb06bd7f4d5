"""Exceptions with stable codes; the UI shows ``message_zh`` (the core carries no Qt)."""

from __future__ import annotations


class CertDeskError(Exception):
    code = "error"

    def __init__(self, message_zh: str, *, code: str | None = None, **data):
        super().__init__(message_zh)
        self.message_zh = message_zh
        if code:
            self.code = code
        self.data = data


class UserFacingError(CertDeskError):
    """Bad input or a refused action; shown to the user as is."""

    code = "user_error"


class NotFound(UserFacingError):
    code = "not_found"


class PermissionDenied(UserFacingError):
    code = "permission_denied"


class DeviceError(CertDeskError):
    code = "device_error"


class SyncError(CertDeskError):
    code = "sync_error"
