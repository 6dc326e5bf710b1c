"""The ledger is insert-only in the database too: on PostgreSQL a trigger refuses UPDATE and DELETE of its rows,
so not even raw SQL or a future bug can rewrite history. Other databases rely on the model's guards."""

from django.db import migrations

TABLE = "vouchers_vouchertransaction"

CREATE = f"""
CREATE OR REPLACE FUNCTION vouchers_ledger_insert_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger rows are insert-only (% on %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS vouchers_ledger_insert_only ON {TABLE};
CREATE TRIGGER vouchers_ledger_insert_only
    BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION vouchers_ledger_insert_only();
"""

DROP = f"""
DROP TRIGGER IF EXISTS vouchers_ledger_insert_only ON {TABLE};
DROP FUNCTION IF EXISTS vouchers_ledger_insert_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("vouchers", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
