"""The database cache's table (the shared cache without Redis, and Redis's fallback):
created by `migrate` so that every deployment, test database and `make run` has it."""

from django.conf import settings
from django.core.management.commands.createcachetable import Command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    # By name, whatever cache this process is configured with (the test suite's own
    # process uses memory, the servers it starts use this table).
    command = Command(stdout=None, stderr=None)
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, settings.CACHE_TABLE, dry_run=False)


class Migration(migrations.Migration):
    dependencies = []

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
