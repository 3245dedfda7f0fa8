"""On PostgreSQL the database itself refuses UPDATE and DELETE on audit rows, so not even raw SQL
from the application can rewrite history. Other databases rely on the model layer."""

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
    BEFORE UPDATE OR DELETE OR TRUNCATE ON moderation_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION kindred_audit_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS kindred_audit_append_only ON moderation_auditentry;
DROP FUNCTION IF EXISTS kindred_audit_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("moderation", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
