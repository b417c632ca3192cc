"""Set up an evaluation round from a script, as the curator's setup page does; optionally freeze it.

python manage.py create_round --project cardio --name "Round 3" --mode pairwise --models gpt-x,med-y \
    --reviewers a@x.org,b@x.org --k 2
python manage.py create_round --project cardio --name "Rubrics 1" --mode absolute --question rubric \
    --models gpt-x,med-y --reviewers a@x.org,b@x.org --prompts fever,chest-pain --freeze
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from curation.models import Project, RoundMode, RoundPairing, RoundQuestion
from curation.services.round_schedules import round_freeze
from curation.services.rounds import round_create_by_names

# The service's field names as this command's options.
FLAGS = {"judgments_per_item": "k", "reference_model": "reference", "sample_size": "sample-size"}


def _listed(value: str | None) -> list[str] | None:
    return None if value is None else [token.strip() for token in value.split(",") if token.strip()]


class Command(BaseCommand):
    help = "Set up a draft evaluation round (the setup page's rules), and freeze it to open judging if asked."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, metavar="SLUG")
        parser.add_argument("--name", required=True)
        parser.add_argument("--mode", choices=RoundMode.values, required=True)
        parser.add_argument(
            "--question",
            choices=RoundQuestion.values,
            default=RoundQuestion.FORM,
            help="form: the project's rating form; rubric: each prompt's accepted physician rubric (absolute mode)",
        )
        parser.add_argument("--models", required=True, help="Model names, separated by commas")
        parser.add_argument("--reviewers", required=True, help="Emails of project members, separated by commas")
        parser.add_argument("--k", type=int, default=2, help="Judgments per item")
        parser.add_argument("--reference", default="", help="Reference model (one of --models)")
        parser.add_argument("--pairing", choices=RoundPairing.values, default=RoundPairing.ALL_PAIRS)
        parser.add_argument("--prompts", help="Prompts by external id (or number), separated by commas")
        parser.add_argument("--sample-size", type=int, help="A seeded random sample of this many prompts")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--freeze", action="store_true", help="Freeze the round at once: judging opens")

    def handle(self, *args, project, name, mode, question, models, reviewers, k, reference, pairing, **options):
        target = Project.objects.filter(slug=project).first()
        if target is None:
            raise CommandError(f"--project: no project with slug {project!r}.")
        try:
            evaluation_round = round_create_by_names(
                project=target,
                created_by=None,
                reviewer_emails=_listed(reviewers),
                prompts=_listed(options["prompts"]),
                name=name,
                mode=mode,
                question=question,
                models=_listed(models),
                judgments_per_item=k,
                reference_model=reference,
                pairing=pairing,
                sample_size=options["sample_size"],
                seed=options["seed"],
            )
        except ValidationError as exc:
            by_field = exc.message_dict if hasattr(exc, "error_dict") else {"name": exc.messages}
            problems = "; ".join(
                f"--{FLAGS.get(field, field)}: {' '.join(messages)}" for field, messages in by_field.items()
            )
            raise CommandError(problems) from exc
        prompts = evaluation_round.round_prompts.count()
        self.stdout.write(f"Round {evaluation_round.name!r} (id {evaluation_round.pk}) set up with {prompts} prompts.")
        if options["freeze"]:
            try:
                round_freeze(evaluation_round=evaluation_round)
            except ValidationError as exc:
                raise CommandError(f"The round is set up but not frozen: {' '.join(exc.messages)}") from exc
            self.stdout.write("Frozen: the schedule is set and reviewers can start judging.")
