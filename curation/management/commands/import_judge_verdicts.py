"""Import a judge's verdicts (JSONL or CSV) into a project: per criterion, or pairwise votes.

python manage.py import_judge_verdicts verdicts.csv --project cardio
Per criterion: prompt_id, response_id or model, criterion_index (from 0) or criterion, judge, judge_version, met.
Pairwise (a row with verdict): item or prompt_id, response_a/response_b or model_a/model_b in the order
shown, judge, judge_version, verdict (a, b or tie), optionally swapped_verdict.
"""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from curation.management.commands.import_rubrics import project_and_text
from curation.services.judges import judge_verdicts_import_text


class Command(BaseCommand):
    help = "Import a judge's verdicts on rubric criteria and pairwise votes (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--project", required=True, help="the project's slug")

    def handle(self, *args, file: Path, project: str, **options):
        target, text = project_and_text(project, file)
        try:
            count = judge_verdicts_import_text(project=target, text=text, name=file.name)
        except ValidationError as exc:
            raise CommandError(f"{file}: {'; '.join(exc.messages)}") from None
        self.stdout.write(f"Imported {count} verdicts into {target.slug}.")
