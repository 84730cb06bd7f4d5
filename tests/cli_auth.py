"""Signing in for command-line tests: a known account in the test database, and the environment
pair a scheduled job uses (CERTDESK_OPERATOR / CERTDESK_PASSWORD)."""

from __future__ import annotations

PASSWORD = "Test2026pw"


def signed_env(db_or_url, role: str = "admin") -> dict[str, str]:
    """Make sure an account of ``role`` exists in the database (admin first) and return the
    environment variables that sign a command in as it."""
    from desktop.services.database import Database
    from desktop.services.operators import OperatorService
    from desktop.platform.workstation import Actor

    db = Database.open(db_or_url) if isinstance(db_or_url, str) else db_or_url
    try:
        ops = OperatorService(db)
        ops.ensure_admin("ws-test", PASSWORD, must_change=False)
        name = "admin" if role == "admin" else f"t_{role}"
        if ops.get(name) is None:
            ops.create(name, name, role, PASSWORD, Actor("admin", "ws-test", "admin"), must_change=False)
    finally:
        if isinstance(db_or_url, str):
            db.dispose()
    return {"CERTDESK_OPERATOR": name, "CERTDESK_PASSWORD": PASSWORD}
