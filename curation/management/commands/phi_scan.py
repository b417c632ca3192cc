"""Scan a project's unscanned texts for protected health information now, in this process.

python manage.py phi_scan --project cardio

An import queues this scan for the worker (make run starts one; make worker with a broker); this
command is for the command line alone, where no worker may run. Nothing unscanned is ever released.
What it finds waits on the project's PHI page, where a curator clears or redacts each finding.
"""

from django.core.management.base import BaseCommand, CommandError

from curation.models import Project
from curation.selectors.phi import phi_counts
from curation.services.phi import phi_scan_now


class Command(BaseCommand):
    help = "Scan a project's unscanned texts for PHI now, in this process (imports queue it for the worker)."

    def add_arguments(self, parser):
        parser.add_argument("--project", metavar="SLUG", required=True, help="The project whose texts to scan")

    def handle(self, *args, project, **options):
        chosen = Project.objects.filter(slug=project).first()
        if chosen is None:
            raise CommandError(f"--project: no project with slug {project!r}.")
        run = phi_scan_now(project_id=chosen.pk)
        counts = phi_counts(project=chosen)
        self.stdout.write(
            f"Scanned {run.texts_scanned:,} text(s) of {chosen.slug}: {run.findings:,} finding(s) in them. "
            f"The project has {counts['open']:,} open finding(s) for a curator on its PHI page, "
            f"and {counts['unscanned']:,} text(s) left unscanned."
        )
