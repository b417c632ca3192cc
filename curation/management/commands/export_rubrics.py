"""Export a project's rubrics, or its clinicians' and physicians' labels, as HealthBench JSONL.

python manage.py export_rubrics --project cardio --format rubrics --out rubrics.jsonl
python manage.py export_rubrics --project cardio --format meta_eval --out labels.jsonl
"""

from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from curation.formats.healthbench import healthbench_write
from curation.formats.writers.healthbench import meta_eval_rows, rubric_rows
from curation.management.files import output_path, write_output_text
from curation.models import Project

WRITERS = {"rubrics": rubric_rows, "meta_eval": meta_eval_rows}


class Command(BaseCommand):
    help = "Write a project's rubrics (--format rubrics) or labels (--format meta_eval) as HealthBench JSONL."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="the project's slug")
        parser.add_argument("--format", required=True, choices=sorted(WRITERS))
        parser.add_argument("--out", required=True, type=Path, help="the file to write, in a folder that exists")

    def handle(self, *args, project: str, format: str, out: Path, **options):
        target = Project.objects.filter(slug=project).first()
        if target is None:
            raise CommandError(f"No project with slug {project!r}.")
        path = output_path("--out", out)
        held: Counter = Counter()
        text = healthbench_write(WRITERS[format](project=target, held=held))
        write_output_text("--out", path, text)
        self.stdout.write(f"Wrote {text.count(chr(10))} {format} rows to {out}.")
        for reason, count in sorted(held.items()):
            if count:
                self.stdout.write(f"Held back {count} row(s) for PHI: {reason}. Clear them on the project's PHI page.")
