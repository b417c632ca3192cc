"""Create a project with its rating forms, as the app does.

python manage.py create_project cardio --name "Cardiology seeds" --guidelines guidelines.md --k 3
python manage.py create_project nephro --name "Nephrology seeds" --from-template cardio
"""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from curation.models import Project, ReviewVisibility
from curation.services.projects import project_create


class Command(BaseCommand):
    help = "Create a project with the default rating forms (or another project's, --from-template)."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="Short name used in addresses and in --project elsewhere (letters, digits, -)")
        parser.add_argument("--name", required=True, help="The project's name as people see it")
        parser.add_argument("--description", default="")
        parser.add_argument("--guidelines", type=Path, help="A Markdown file with the reviewers' guidelines")
        parser.add_argument("--k", type=int, default=2, help="Reviewers per item (default 2)")
        parser.add_argument(
            "--visibility",
            choices=ReviewVisibility.values,
            default=ReviewVisibility.AFTER_ADJUDICATION,
            help="What a reviewer may see of others' reviews after submitting",
        )
        parser.add_argument("--from-template", metavar="SLUG", help="Copy this project's forms and guidelines")
        parser.add_argument("--owner", metavar="EMAIL", help="A curator or admin to record as creator and member")

    def handle(self, *args, slug, name, description, guidelines, k, visibility, from_template, owner, **options):
        template = None
        if from_template:
            template = Project.objects.filter(slug=from_template).first()
            if template is None:
                raise CommandError(f"--from-template: no project with slug {from_template!r}.")
        creator = None
        if owner:
            creator = User.objects.filter(email__iexact=owner, is_active=True).first()
            if creator is None:
                raise CommandError(f"--owner: no active account with the email {owner!r}.")
        text = ""
        if guidelines is not None:
            try:
                text = guidelines.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise CommandError(f"--guidelines {guidelines}: cannot read it as UTF-8 text ({exc}).") from exc
        try:
            project = project_create(
                name=name,
                slug=slug,
                created_by=creator,
                description=description,
                guidelines=text,
                reviewers_per_item=k,
                review_visibility=visibility,
                template=template,
            )
        except ValidationError as exc:
            problems = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
            raise CommandError(f"Project not created: {problems}") from exc
        self.stdout.write(
            f"Created project {project.slug!r} ({project.name}) with the forms "
            f"{project.seed_schema.name!r} and {project.response_schema.name!r}, k={project.reviewers_per_item}."
        )
