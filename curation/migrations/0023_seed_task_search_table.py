"""Seed tasks' search documents move to their own table (curation.models.SeedTaskSearch).

The GIN expression index of 0010 made every insert into curation_seedtask compute its tsvector: of the
8 s an import of 52,000 tasks spent in COPY, 6 were that index. The documents are now stored, built
after an import by a job, and indexed there; the expression index goes.

PostgreSQL: the documents of every existing task are built in one INSERT ... SELECT, the GIN index is
created after them (one build instead of an update per row), and the old index is dropped. Every
existing import counts as indexed. SQLite keeps its substring search and the table stays empty.
"""

import django.contrib.postgres.search
import django.db.models.deletion
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations, models

OLD_INDEX = "seed_task_search"
INDEX = "seed_task_search_document"
# The document as curation.services.seed_task_search builds it (frozen here, as a migration must be).
DOCUMENT = (
    "to_tsvector('english'::regconfig, COALESCE(instruction, '') || ' ' || COALESCE(input, '') || ' ' "
    "|| COALESCE(reference_output, ''))"
)


def fill_and_swap_indexes(apps, schema_editor):
    ImportJob = apps.get_model("curation", "ImportJob")
    ImportJob.objects.filter(search_indexed_at__isnull=True).update(search_indexed_at=models.F("created_at"))
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "INSERT INTO curation_seedtasksearch (seed_task_id, project_id, document, content_hash) "
        f"SELECT id, project_id, {DOCUMENT}, content_hash FROM curation_seedtask"
    )
    schema_editor.execute(f"CREATE INDEX {INDEX} ON curation_seedtasksearch USING gin (document)")
    schema_editor.execute(f"DROP INDEX IF EXISTS {OLD_INDEX}")


def restore_expression_index(apps, schema_editor):
    """Reversed, 0010's index comes back as 0010 made it (the expression the old search filtered on); the
    table and its index are dropped after this by the reversed CreateModel."""
    if schema_editor.connection.vendor != "postgresql":
        return
    vector = SearchVector("instruction", "input", "reference_output", config="english")
    schema_editor.add_index(apps.get_model("curation", "SeedTask"), GinIndex(vector, name=OLD_INDEX))


class Migration(migrations.Migration):
    dependencies = [("curation", "0022_project_k_bounds")]

    operations = [
        migrations.AddField(
            model_name="importjob",
            name="search_indexed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.CreateModel(
            name="SeedTaskSearch",
            fields=[
                (
                    "seed_task",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="curation.seedtask",
                    ),
                ),
                ("document", django.contrib.postgres.search.SearchVectorField()),
                ("content_hash", models.CharField(max_length=64)),
                (
                    "project",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="curation.project"
                    ),
                ),
            ],
        ),
        migrations.RunPython(fill_and_swap_indexes, restore_expression_index),
    ]
