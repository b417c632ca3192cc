"""Full-text search over seed tasks on PostgreSQL: a GIN index on the expression
curation.selectors.seed_tasks.seed_tasks_matching searches with. SQLite has no such index; its search
is a substring match (see the README)."""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

INDEX = "seed_task_search"


def _index() -> GinIndex:
    return GinIndex(SearchVector("instruction", "input", "reference_output", config="english"), name=INDEX)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(apps.get_model("curation", "SeedTask"), _index())


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("curation", "SeedTask"), _index())


class Migration(migrations.Migration):
    dependencies = [("curation", "0009_scale_indexes")]

    operations = [migrations.RunPython(create_index, drop_index)]
