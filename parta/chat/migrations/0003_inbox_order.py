"""The inbox's order as an index, so that its first page is read off the index instead of
sorting every thread: the longest wait first (threads nobody waits on have no
``waiting_since`` and come after), then the latest message. PostgreSQL only: SQLite's
indexes cannot say NULLS LAST (the model does not declare it); a test checks the planner
uses it."""

from django.db import migrations

INBOX_ORDER_INDEX = """
CREATE INDEX chat_inbox_order ON chat_thread
    (waiting_since ASC NULLS LAST, last_message_at DESC NULLS LAST, id DESC)
"""


def create_inbox_order_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INBOX_ORDER_INDEX)


def drop_inbox_order_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS chat_inbox_order")


class Migration(migrations.Migration):
    dependencies = [("chat", "0002_message_author_time")]

    operations = [migrations.RunPython(create_inbox_order_index, drop_inbox_order_index)]
