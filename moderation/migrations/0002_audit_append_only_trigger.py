"""On PostgreSQL the database itself refuses UPDATE and DELETE on audit rows, so not even raw SQL
from the application can rewrite history. Other databases rely on the model layer.

TRUNCATE is not a row operation and is left to privileges: production runs the application as a
role that does not own the table and has no TRUNCATE grant (docs/deployment in README). Test
runs need it to reset the database between transactional tests."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION kindred_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'moderation_auditentry is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS kindred_audit_append_only ON moderation_auditentry;
CREATE TRIGGER kindred_audit_append_only
    BEFORE UPDATE OR DELETE ON moderation_auditentry
    FOR EACH ROW EXECUTE FUNCTION kindred_audit_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS kindred_audit_append_only ON moderation_auditentry;
DROP FUNCTION IF EXISTS kindred_audit_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("moderation", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
