"""Rebuild the counts the pages read (tasks per project, assignments per reviewer, tasks per vocabulary
spelling) from the rows themselves, and say which were wrong.

python manage.py recount                 # every project
python manage.py recount --project cardio

The services keep these counts as they write; a recount is for repair, after rows were written some
other way (SQL by hand, the admin, a restored table). It is safe while people work.
"""

from django.core.management.base import BaseCommand

from curation.management.projects import projects_chosen
from curation.services.assignments import assignment_counts_recount
from curation.services.seed_tasks import seed_tasks_recount


class Command(BaseCommand):
    help = "Rebuild the counts pages read (tasks, assignments per reviewer, vocabulary use) from the rows."

    def add_arguments(self, parser):
        parser.add_argument("--project", metavar="SLUG", help="Only this project (default: every project)")

    def handle(self, *args, **options):
        for project in projects_chosen(options["project"]):
            tasks = seed_tasks_recount(project=project)
            assignments = assignment_counts_recount(project=project)
            if tasks or assignments:
                self.stdout.write(
                    f"{project.slug}: corrected {tasks} task and vocabulary count(s), "
                    f"{assignments} reviewer assignment count(s)"
                )
            else:
                self.stdout.write(f"{project.slug}: every count was right")
