"""The database itself refuses to change a ledger entry's amount, person, event or time.

The model's ``save()`` already refuses updates; this guards every other path (a raw UPDATE, a
``QuerySet.update()``, a shell). Only the links to a deleted project or answer may be emptied
(``SET_NULL``), so that the entries outlive them.
"""

from django.db import migrations

GUARDED = (
    "amount",
    "currency",
    "person_id",
    "event",
    "part",
    "active_seconds",
    "lease_seconds",
    "created_at",
    "organization_id",
)

POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION pay_earning_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'The ledger is append-only: entry ' || OLD.id || ' cannot be changed',
        ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER pay_earning_immutable BEFORE UPDATE OF {", ".join(GUARDED)} ON pay_earning
    FOR EACH ROW WHEN ({" OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in GUARDED)})
    EXECUTE FUNCTION pay_earning_immutable();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS pay_earning_immutable ON pay_earning;
DROP FUNCTION IF EXISTS pay_earning_immutable();
"""
SQLITE_UP = f"""
CREATE TRIGGER pay_earning_immutable BEFORE UPDATE OF {", ".join(GUARDED)} ON pay_earning
FOR EACH ROW WHEN {" OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in GUARDED)}
BEGIN SELECT RAISE(ABORT, 'The ledger is append-only: an entry cannot be changed'); END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS pay_earning_immutable;"


def _run(sql: dict):
    def run(apps, schema_editor):
        statement = sql.get(schema_editor.connection.vendor)
        if statement:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("pay", "0001_ledger")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_UP, "sqlite": SQLITE_UP}),
            _run({"postgresql": POSTGRES_DOWN, "sqlite": SQLITE_DOWN}),
        ),
    ]
