"""The audit trail's append-only triggers (migration ``0002``): which are missing, and putting them back.

The triggers stop UPDATE, DELETE (and on PostgreSQL TRUNCATE) of ``audit_event``; someone who owns the
database can drop them, and a trail without them is only as good as the chain. So ``audit verify`` and
the app's start-up report a missing trigger, ``restore`` refuses a file without them, and ``db upgrade``
re-creates them (the SQL is the same as the migration's).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

MESSAGE = "audit_event is append-only"

_PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION kdash_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$
"""

#: name -> CREATE statement, per dialect (as migration 0002 wrote them).
TRIGGERS: dict[str, dict[str, str]] = {
    "postgresql": {
        "audit_event_append_only": "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON "
        "audit_event FOR EACH ROW EXECUTE FUNCTION kdash_audit_append_only()",
        "audit_event_no_truncate": "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
        "FOR EACH STATEMENT EXECUTE FUNCTION kdash_audit_append_only()",
    },
    "sqlite": {
        f"audit_event_no_{verb.lower()}": f"CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON "
        f"audit_event BEGIN SELECT RAISE(ABORT, '{MESSAGE}: {verb} refused'); END"
        for verb in ("UPDATE", "DELETE")
    },
}


def present_triggers(conn: Connection) -> set[str]:
    if conn.dialect.name == "postgresql":
        rows = conn.execute(
            text(
                "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE c.relname = 'audit_event' AND c.relnamespace = to_regnamespace(current_schema()) "
                "AND t.tgenabled <> 'D' AND NOT t.tgisinternal"
            )
        )
    else:
        rows = conn.execute(
            text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_event'")
        )
    return {str(r[0]) for r in rows}


def missing_triggers(conn: Connection) -> list[str]:
    """The append-only triggers this database lacks (a disabled PostgreSQL trigger counts as missing)."""
    expected = TRIGGERS["postgresql" if conn.dialect.name == "postgresql" else "sqlite"]
    present = present_triggers(conn)
    return sorted(name for name in expected if name not in present)


def recreate_missing_triggers(conn: Connection) -> list[str]:
    """Create the append-only triggers that are missing; returns their names (none: nothing done)."""
    missing = missing_triggers(conn)
    if not missing:
        return []
    dialect = "postgresql" if conn.dialect.name == "postgresql" else "sqlite"
    if dialect == "postgresql":
        conn.execute(text(_PG_FUNCTION))
        for name in missing:  # a disabled trigger is dropped and made again
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name} ON audit_event"))
    for name in missing:
        conn.execute(text(TRIGGERS[dialect][name]))
    return missing


def trigger_problem(name: str) -> str:
    return (
        f"the append-only trigger {name} is missing, so events could be edited or removed "
        "(run python -m kdash db upgrade to put it back, then look for what was changed)"
    )
