"""Apply Alembic migrations at start-up.

The head revision is compared first with a plain query, so an up-to-date database costs one
SELECT and Alembic is only imported when there is work to do (commands must start fast).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, inspect, text

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def head_revision() -> str:
    heads = []
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("revision = "):
                heads.append(line.split("=", 1)[1].strip().strip("'\""))
    downs = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("down_revision = "):
                downs.add(line.split("=", 1)[1].strip().strip("'\""))
    tips = [h for h in heads if h not in downs]
    if len(tips) != 1:
        raise RuntimeError(f"expected one migration head, found {tips}")
    return tips[0]


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def alembic_config(connection=None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine) -> bool:
    """Bring the schema to head. Returns True when a migration ran."""
    if current_revision(engine) == head_revision():
        return False
    from alembic import command

    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    return True
