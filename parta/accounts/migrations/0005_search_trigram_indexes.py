"""Trigram indexes for finding people by any part of their name, email or phone (the
CRM's clients search, the moderators' students list): ``icontains`` and ``contains``
become index scans instead of reading every user. PostgreSQL only (pg_trgm is a trusted
extension: the database's owner may create it); SQLite keeps its plain scans."""

from django.db import migrations

INDEXES = (
    ("accounts_user_name_trgm", "UPPER(full_name::text)"),
    ("accounts_user_email_trgm", "UPPER(email::text)"),
    ("accounts_user_phone_trgm", "(phone::text)"),
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON accounts_user USING gin ({expression} gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _expression in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_crm_indexes")]

    operations = [migrations.RunPython(create, drop)]
