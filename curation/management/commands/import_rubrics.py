"""Import a HealthBench JSONL file: rubric rows and/or physician-labelled meta-eval rows.

python manage.py import_rubrics healthbench.jsonl --project cardio
"""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from curation.formats.healthbench import healthbench_read
from curation.models import Project
from curation.services.rubric_imports import rubrics_import
from curation.stats.rubrics import RubricFormatError
from curation.text.plural import counted


def project_and_text(slug: str, file: Path) -> tuple[Project, str]:
    """The project to import into and the file's text, or a CommandError saying which is wrong."""
    target = Project.objects.filter(slug=slug).first()
    if target is None:
        raise CommandError(f"No project with slug {slug!r}; create_project makes one.")
    try:
        return target, file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"{file}: cannot read it as UTF-8 text ({exc})") from None


class Command(BaseCommand):
    help = "Import HealthBench rubric rows and meta-eval rows into a project (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--project", required=True, help="the project's slug")

    def handle(self, *args, file: Path, project: str, **options):
        target, text = project_and_text(project, file)
        try:
            rubric_lines, meta_lines = healthbench_read(text)
            result = rubrics_import(project=target, rubric_lines=rubric_lines, meta_lines=meta_lines)
        except RubricFormatError as exc:
            raise CommandError(f"{file}: {exc}") from None
        except ValidationError as exc:
            raise CommandError(f"{file}: {'; '.join(exc.messages)}") from None
        rubrics, labels = counted(result.rubrics, "rubric"), counted(result.labels, "physician label")
        self.stdout.write(f"Imported {rubrics} and {labels} into {target.slug}.")
        if result.new_texts:
            texts = counted(result.new_texts, "new text")
            self.stdout.write(
                f"The PHI scan of the {texts} it wrote (prompts and completions) is queued; with no worker running, "
                f"python manage.py phi_scan --project {target.slug} scans them now. Nothing unscanned is released."
            )
