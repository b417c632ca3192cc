"""Build the search documents of seed tasks that have none, or one built from texts since edited.

python manage.py search_index                 # every project
python manage.py search_index --project cardio

The services build a task's document when they write it, and a job after each import builds those of
its tasks; this is for whatever those missed: an import run from the command line with no worker to
run its job, tasks written some other way (SQL by hand, a restored table). A document is stale when
the task's content_hash is not the one it was built from, so texts changed without their hash are not
seen. It reads every task of the project and is safe while people work. On SQLite there is nothing to
build: search reads the tasks themselves.
"""

from django.core.management.base import BaseCommand

from curation.management.projects import projects_chosen
from curation.selectors.seed_tasks import searches_documents
from curation.services.seed_task_search import seed_task_search_catch_up
from curation.text.plural import counted


class Command(BaseCommand):
    help = "Build missing or stale search documents of seed tasks (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--project", metavar="SLUG", help="Only this project (default: every project)")

    def handle(self, *args, **options):
        if not searches_documents():
            self.stdout.write("Nothing to build: on this database search reads the tasks themselves.")
            return
        for project in projects_chosen(options["project"]):
            built = seed_task_search_catch_up(project_id=project.pk)
            if built:
                self.stdout.write(f"{project.slug}: built the search documents of {counted(built, 'task')}")
            else:
                self.stdout.write(f"{project.slug}: every task's search document was up to date")
