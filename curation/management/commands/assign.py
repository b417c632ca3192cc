"""Hand out work from a script, as the curator's assign page does.

python manage.py assign --project cardio --reviewers a@x.org,b@x.org --k 2 --status in_review --limit 500
python manage.py assign --project cardio --reviewers a@x.org --k 1 --kind response --model-name gpt-x
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from curation.models import Project, TaskStatus
from curation.services.assignments import ITEM_KINDS, MAX_BATCH, assignments_batch_create


class Command(BaseCommand):
    help = "Assign a project's items to reviewers: up to k each, least loaded first (the assign page's rules)."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, metavar="SLUG")
        parser.add_argument("--reviewers", required=True, help="Emails of project members, separated by commas")
        parser.add_argument("--k", type=int, required=True, help="Reviewers per item")
        parser.add_argument("--kind", choices=ITEM_KINDS, default="seed_task")
        parser.add_argument("--ids", help="These item ids (commas); without it, the filters choose the items")
        parser.add_argument("--status", choices=TaskStatus.values, default="", help="Seed task status")
        parser.add_argument("--difficulty", type=int, choices=range(1, 6))
        parser.add_argument("--topic", default="", help="Topic contains")
        parser.add_argument("--model-name", default="", help="Responses of this model only")
        parser.add_argument("--limit", type=int, default=100, help=f"At most this many items (up to {MAX_BATCH})")

    def handle(self, *args, project, reviewers, k, kind, ids, status, difficulty, topic, model_name, limit, **options):
        target = Project.objects.filter(slug=project).first()
        if target is None:
            raise CommandError(f"--project: no project with slug {project!r}.")
        item_ids = None
        if ids:
            try:
                item_ids = [int(token) for token in ids.replace(" ", "").split(",") if token]
            except ValueError as exc:
                raise CommandError(f"--ids {ids!r}: item ids are whole numbers separated by commas.") from exc
        try:
            result = assignments_batch_create(
                project=target,
                assigned_by=None,
                reviewer_emails=reviewers.split(","),
                k=k,
                kind=kind,
                item_ids=item_ids,
                status=status,
                difficulty=difficulty,
                topic=topic,
                model_name=model_name,
                limit=limit,
            )
        except ValidationError as exc:
            flags = {"seed_task_ids": "ids", "response_ids": "ids", "item_ids": "ids", "model_name": "model-name"}
            problems = "; ".join(
                f"--{flags.get(field, field)}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items()
            )
            raise CommandError(problems) from exc
        self.stdout.write(f"{result.created} assignments made on {result.items} items.")
        for short in result.short:
            self.stdout.write(f"Could not reach k={k}: {short}")
