"""The central PostgreSQL as the authority (issue 15 §2–§5; docs/sync.md §8). Persistence only.

``install_authority`` (run by ``certdesk central migrate``, with the schema owner's credentials,
after the Alembic migrations) makes PostgreSQL itself enforce who may write what:

* every enrolled device logs in as its own role, a member of the group role ``certdesk_device``;
* device roles may read everything a workstation pulls, but write only through narrow rights:
  ``INSERT``/``UPDATE`` on the tables whose rows devices record (facts, visits, forms, …) and
  nothing at all on ``operators``, ``settings``, ``cycle_rules``, ``devices``, ``form_keys``;
  ``audit_log`` is insert-only, and only for the device's own chain;
* each device-writable table gets a central-only column ``origin`` (default: the device's role,
  or ``central``) and row-level security: a device inserts only rows of its own origin and
  updates only those — plus the few cross-origin steps the workflow needs (an outstanding form
  received, an open visit closed, a death reported, an event voided or approved, an open case
  resolved), whose *shape* a trigger checks (only those columns may change);
* definer functions do the rest: ``certdesk_hello`` (the device's installation and rotating
  token: clone detection) and ``certdesk_checkpoint`` (an audit checkpoint with a server MAC).

Everything here is idempotent, so ``central migrate`` can run after every upgrade.
"""

from __future__ import annotations

import secrets

from sqlalchemy import Connection, text

DEVICE_GROUP = "certdesk_device"

# Tables a device writes (rows carry an origin). Centrally owned ones are absent on purpose.
DEVICE_TABLES = (
    "persons", "entitlements", "certifications", "entitlement_events", "recovery_cases",
    "entitlement_amounts", "payroll_runs", "assist_forms", "home_visits", "face_images",
    "outreach_marks", "outreach_flags", "payroll_exports", "recovery_instalments", "sync_conflicts",
)
# Read-only for devices (decided centrally) — pulled, never pushed by an enrolled device.
CENTRAL_TABLES = ("operators", "settings", "import_profiles", "cycle_rules")

# Cross-origin updates the workflow needs: (old-row condition, columns that may change).
CROSS_ORIGIN = {
    "assist_forms": ("status = 'outstanding'",
                     ("status", "received_at", "body_name", "body_date", "certifier", "scan_path",
                      "certification_id", "printed_count")),
    "home_visits": ("status NOT IN ('done', 'not_at_home', 'cancelled')",
                    ("status", "note", "certification_id", "closed_by", "closed_at", "updated_at")),
    "persons": ("death_date IS NULL", ("death_date", "death_source", "updated_at", "updated_by", "workstation")),
    "entitlement_events": ("voided_at IS NULL OR approved_at IS NULL",
                           ("voided_at", "void_reason", "approved_by", "approved_at")),
    "sync_conflicts": ("status = 'open'", ("status", "resolved_by", "resolved_at", "updated_at", "detail")),
}

MARKER = "authority_version"
VERSION = "1"


def _functions() -> str:
    return f"""
CREATE OR REPLACE FUNCTION certdesk_is_device(r name) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                 JOIN pg_roles u ON u.oid = m.member
                 WHERE g.rolname = '{DEVICE_GROUP}' AND u.rolname = r AND NOT u.rolsuper)
$$;

CREATE OR REPLACE FUNCTION certdesk_origin() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN certdesk_is_device(current_user) THEN current_user::text
              ELSE COALESCE(NULLIF(current_setting('certdesk.origin', true), ''), 'central') END
$$;

-- The change log's origin: for a device, its own role (it cannot claim another's).
CREATE OR REPLACE FUNCTION certdesk_capture() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7270003);
  INSERT INTO sync_changes (entity, entity_id, origin, changed_at)
  VALUES (TG_TABLE_NAME, to_jsonb(NEW) ->> TG_ARGV[0],
          CASE WHEN NOT certdesk_is_device(session_user)
                 THEN COALESCE(NULLIF(current_setting('certdesk.origin', true), ''), 'central')
               -- a device may only ask for its own change back ('central'), never claim another's
               WHEN current_setting('certdesk.origin', true) = 'central' THEN 'central'
               ELSE session_user::text END,
          now() AT TIME ZONE 'UTC');
  RETURN NULL;
END $$;

-- A device never changes a row's origin, and on a row of another origin it may change only the
-- columns its workflow step needs (TG_ARGV: the allowed columns).
CREATE OR REPLACE FUNCTION certdesk_shape() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  allowed text[] := COALESCE(TG_ARGV, '{{}}'::text[]);
  o jsonb; n jsonb;
BEGIN
  IF NOT certdesk_is_device(current_user) THEN
    RETURN NEW;
  END IF;
  IF NEW.origin IS DISTINCT FROM OLD.origin THEN
    RAISE EXCEPTION 'certdesk: a device cannot change the origin of a % row', TG_TABLE_NAME
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF OLD.origin = current_user::text THEN
    RETURN NEW;
  END IF;
  o := to_jsonb(OLD) - allowed;
  n := to_jsonb(NEW) - allowed;
  IF o IS DISTINCT FROM n THEN
    RAISE EXCEPTION 'certdesk: % row of origin % changed beyond its workflow step', TG_TABLE_NAME, OLD.origin
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;

CREATE TABLE IF NOT EXISTS central_secrets (key text PRIMARY KEY, value text NOT NULL);
REVOKE ALL ON central_secrets FROM PUBLIC;

-- Clone detection: the device names its installation and presents the token it got at its last
-- sync, with the next one it made up. A second database with the same identity has either
-- another installation id or a token the centre has already replaced.
CREATE OR REPLACE FUNCTION certdesk_hello(p_install text, p_token text, p_next text)
RETURNS TABLE (device_id text, tag text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE d devices%ROWTYPE;
BEGIN
  SELECT * INTO d FROM devices WHERE devices.device_id = session_user::text FOR UPDATE;
  IF NOT FOUND OR d.status <> 'active' THEN
    RAISE EXCEPTION 'certdesk:not_enrolled';
  END IF;
  IF d.install_id <> p_install THEN
    RAISE EXCEPTION 'certdesk:other_installation';
  END IF;
  IF d.token = p_token THEN
    UPDATE devices SET token = p_next, last_seen_at = now() AT TIME ZONE 'UTC'
    WHERE devices.device_id = d.device_id;
  ELSIF d.token = p_next THEN
    UPDATE devices SET last_seen_at = now() AT TIME ZONE 'UTC' WHERE devices.device_id = d.device_id;
  ELSE
    RAISE EXCEPTION 'certdesk:clone';
  END IF;
  RETURN QUERY SELECT d.device_id::text, d.tag::text;
END $$;

-- An audit checkpoint: what the device says (count, head, its MAC), what the centre holds for
-- it, server time and a server MAC with a key only the schema owner can read.
CREATE OR REPLACE FUNCTION certdesk_checkpoint(p_count integer, p_head_id text, p_head_hash text, p_mac text)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  dev text := session_user::text;
  held integer;
  ts timestamp := now() AT TIME ZONE 'UTC';
  k text;
  s integer;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM devices WHERE device_id = dev AND status = 'active') THEN
    RAISE EXCEPTION 'certdesk:not_enrolled';
  END IF;
  SELECT count(*) INTO held FROM audit_log WHERE workstation = dev;
  SELECT value INTO k FROM central_secrets WHERE key = 'checkpoint_key';
  INSERT INTO audit_checkpoints (device_id, count, head_id, head_hash, device_mac, central_count, server_mac, created_at)
  VALUES (dev, p_count, p_head_id, p_head_hash, p_mac, held,
          encode(sha256(convert_to(k || '|' || dev || '|' || p_count || '|' || coalesce(p_head_hash, '') || '|'
                                   || held || '|' || ts::text || '|' || k, 'UTF8')), 'hex'),
          ts)
  RETURNING seq INTO s;
  RETURN s;
END $$;
"""


def authority_installed(conn: Connection) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    return bool(conn.execute(text(
        "SELECT EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'certdesk_hello') "
        "AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :g)"), {"g": DEVICE_GROUP}).scalar())


def install_authority(conn: Connection) -> None:
    """Create or refresh the authority layer (idempotent; the caller commits)."""
    if conn.dialect.name != "postgresql":
        raise ValueError("the authority layer is for the central PostgreSQL")
    conn.execute(text(f"""
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{DEVICE_GROUP}') THEN
    CREATE ROLE {DEVICE_GROUP} NOLOGIN;
  END IF;
END $$"""))
    conn.exec_driver_sql(_functions().replace("%", "%%"))
    conn.execute(text("INSERT INTO central_secrets (key, value) VALUES ('checkpoint_key', :v) "
                      "ON CONFLICT (key) DO NOTHING"), {"v": secrets.token_hex(32)})
    g = DEVICE_GROUP
    tables = [r[0] for r in conn.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))]
    stmts = [f"GRANT USAGE ON SCHEMA public TO {g}",
             f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {g}",
             f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {g}"]
    hidden = {"devices", "central_secrets", "outbox", "sync_state"}
    for t in tables:
        if t not in hidden:
            stmts.append(f'GRANT SELECT ON "{t}" TO {g}')
    for t in DEVICE_TABLES:
        if t not in tables:
            continue
        stmts += [
            f'GRANT INSERT, UPDATE ON "{t}" TO {g}',
            f'ALTER TABLE "{t}" ADD COLUMN IF NOT EXISTS origin varchar(63) NOT NULL DEFAULT certdesk_origin()',
            f'ALTER TABLE "{t}" ENABLE ROW LEVEL SECURITY',
            f'DROP POLICY IF EXISTS cd_open ON "{t}"',
            f'CREATE POLICY cd_open ON "{t}" USING (true) WITH CHECK (true)',
            f'DROP POLICY IF EXISTS cd_device_insert ON "{t}"',
            f'CREATE POLICY cd_device_insert ON "{t}" AS RESTRICTIVE FOR INSERT TO {g} '
            f'WITH CHECK (origin = current_user)',
            f'DROP POLICY IF EXISTS cd_device_update ON "{t}"',
            f'CREATE POLICY cd_device_update ON "{t}" AS RESTRICTIVE FOR UPDATE TO {g} '
            f'USING (origin = current_user OR ({CROSS_ORIGIN.get(t, ("false",))[0]})) '
            # the new row: origin unchanged and the step's shape are checked by the trigger
            f'WITH CHECK (true)',
            f'DROP TRIGGER IF EXISTS {t}_shape ON "{t}"',
        ]
        cols = CROSS_ORIGIN.get(t, ((), ()))[1]
        args = ", ".join(f"'{c}'" for c in cols)
        stmts.append(f'CREATE TRIGGER {t}_shape BEFORE UPDATE ON "{t}" FOR EACH ROW '
                     f'EXECUTE FUNCTION certdesk_shape({args})')
    # audit_log: append-only, each device only its own chain
    stmts += [
        f"GRANT INSERT ON audit_log TO {g}",
        "ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY",
        "DROP POLICY IF EXISTS cd_open ON audit_log",
        "CREATE POLICY cd_open ON audit_log USING (true) WITH CHECK (true)",
        "DROP POLICY IF EXISTS cd_device_insert ON audit_log",
        f"CREATE POLICY cd_device_insert ON audit_log AS RESTRICTIVE FOR INSERT TO {g} "
        "WITH CHECK (workstation = current_user)",
        # the change log: a device may note its own changes and ask for a central row back
        f"GRANT INSERT ON sync_changes TO {g}",
        "ALTER TABLE sync_changes ENABLE ROW LEVEL SECURITY",
        "DROP POLICY IF EXISTS cd_open ON sync_changes",
        "CREATE POLICY cd_open ON sync_changes USING (true) WITH CHECK (true)",
        "DROP POLICY IF EXISTS cd_device_insert ON sync_changes",
        f"CREATE POLICY cd_device_insert ON sync_changes AS RESTRICTIVE FOR INSERT TO {g} "
        "WITH CHECK (origin IN ('central', current_user))",
        # checkpoints: written by the definer function, each device reads its own
        "ALTER TABLE audit_checkpoints ENABLE ROW LEVEL SECURITY",
        "DROP POLICY IF EXISTS cd_open ON audit_checkpoints",
        "CREATE POLICY cd_open ON audit_checkpoints USING (true) WITH CHECK (true)",
        "DROP POLICY IF EXISTS cd_device_read ON audit_checkpoints",
        f"CREATE POLICY cd_device_read ON audit_checkpoints AS RESTRICTIVE FOR SELECT TO {g} "
        "USING (device_id = current_user)",
        "REVOKE ALL ON FUNCTION certdesk_hello(text, text, text) FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION certdesk_hello(text, text, text) TO {g}",
        "REVOKE ALL ON FUNCTION certdesk_checkpoint(integer, text, text, text) FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION certdesk_checkpoint(integer, text, text, text) TO {g}",
    ]
    for s in stmts:
        conn.exec_driver_sql(s.replace("%", "%%"))
    conn.execute(text("INSERT INTO central_secrets (key, value) VALUES (:k, :v) "
                      "ON CONFLICT (key) DO UPDATE SET value = excluded.value"), {"k": MARKER, "v": VERSION})


# --- devices ------------------------------------------------------------------------------------

TAG_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32 (forms.py uses the same)


def create_device(conn: Connection, *, name: str | None, install_id: str, token: str, enrolled_by: str,
                  when) -> tuple[str, str, str]:
    """Allocate a tag and a role for a new device. Returns (device_id, tag, password)."""
    taken = {r[0] for r in conn.execute(text("SELECT tag FROM devices"))}
    for _ in range(1000):
        tag = "".join(secrets.choice(TAG_ALPHABET) for _ in range(4))
        if tag not in taken:
            break
    else:  # pragma: no cover - a million devices
        raise RuntimeError("no free device tag")
    device_id = f"ws_{tag.lower()}_{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(24)  # [A-Za-z0-9_-]: safe inside a quoted literal
    conn.exec_driver_sql(f"CREATE ROLE {device_id} LOGIN PASSWORD '{password}' IN ROLE {DEVICE_GROUP}")
    conn.execute(text(
        "INSERT INTO devices (device_id, tag, name, install_id, token, status, enrolled_by, enrolled_at) "
        "VALUES (:d, :t, :n, :i, :k, 'active', :b, :w)"),
        {"d": device_id, "t": tag, "n": name, "i": install_id, "k": token, "b": enrolled_by, "w": when})
    return device_id, tag, password


def hello(conn: Connection, install_id: str, token: str, next_token: str) -> tuple[str, str]:
    row = conn.execute(text("SELECT device_id, tag FROM certdesk_hello(:i, :t, :n)"),
                       {"i": install_id, "t": token, "n": next_token}).one()
    return row[0], row[1]


def checkpoint(conn: Connection, count: int, head_id: str | None, head_hash: str | None, mac: str | None) -> int:
    return conn.execute(text("SELECT certdesk_checkpoint(:c, :i, :h, :m)"),
                        {"c": count, "i": head_id, "h": head_hash, "m": mac}).scalar_one()


def devices(conn: Connection) -> list[dict]:
    return [dict(r) for r in conn.execute(text(
        "SELECT device_id, tag, name, status, enrolled_by, enrolled_at, last_seen_at FROM devices "
        "ORDER BY enrolled_at")).mappings()]


# --- form keys ----------------------------------------------------------------------------------


def form_keys(conn: Connection) -> list[dict]:
    return [dict(r) for r in conn.execute(text(
        "SELECT key_id, secret, created_at, retired_at FROM form_keys ORDER BY created_at, key_id")).mappings()]


def add_form_key(conn: Connection, created_by: str, when) -> str:
    """A new current key; the previous ones stay (they verify the forms they signed)."""
    taken = {r["key_id"] for r in form_keys(conn)}
    n = len(taken) + 1
    while f"K{n}" in taken:
        n += 1
    key_id = f"K{n}"
    conn.execute(text("INSERT INTO form_keys (key_id, secret, created_by, created_at) VALUES (:k, :s, :b, :w)"),
                 {"k": key_id, "s": secrets.token_hex(32), "b": created_by, "w": when})
    return key_id


def checkpoints(conn: Connection, device_id: str) -> list[dict]:
    return [dict(r) for r in conn.execute(text(
        "SELECT seq, device_id, count, head_id, head_hash, device_mac, central_count, server_mac, created_at "
        "FROM audit_checkpoints WHERE device_id = :d ORDER BY seq"), {"d": device_id}).mappings()]
