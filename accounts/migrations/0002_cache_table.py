"""The database cache's table (``CACHES``, when it is the database cache), so ``migrate`` alone prepares a deployment.

The counts of refused API tokens (``mesh_ui.throttling``) live in the cache: without its table every Bearer request
would fail. ``createcachetable`` does nothing for other backends (Redis) or when the table exists, so this is safe
to run anywhere; it is not reversed (the table holds only what can be lost).
"""

from typing import Any

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps: Any, schema_editor: Any) -> None:
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_grants_and_tokens")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop, elidable=True)]
