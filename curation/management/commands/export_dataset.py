"""Build a dataset release from the command line and copy its file to --out.

    python manage.py export_dataset --project cardio --format alpaca --out cardio.jsonl \\
        --topic Cardiology --min-reviewers 2 --card cardio.README.md

The release is recorded like one made in the app (same service, same manifest and card), built in
this process rather than on a worker. --out and --card go into folders that exist already; they are
checked before anything is built, and each is written whole or left as it was.

    python manage.py export_dataset --project cardio --rotate-pseudonym-key

gives the project a new pseudonym key (alone, or before the export it is given with, and then only if
that export is accepted): releases from then on name reviewers unlinkably to the releases before.
"""

import shutil
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.models import User
from curation.management.files import output_path, write_output, write_output_text
from curation.models import Project, ReleaseFormat, ReleaseStatus
from curation.releases_definition import FilterSpec, ReleaseDefinition, ReleaseFilters
from curation.selectors.releases import release_held_back
from curation.services.releases import DEFAULT_LICENSE, release_build, release_create, release_key_rotate


def add_filter_argument(parser: CommandParser, name: str, spec: FilterSpec) -> None:
    """One filter's option, as text: the release definition reads it, as it reads the page's and the API's."""
    help = spec.help or spec.cli_help or spec.label
    if spec.choices:
        help += f" ({', '.join(str(value) for value, _ in spec.choices)})"
    if spec.is_list:
        parser.add_argument(spec.cli, dest=name, action="append", help=f"{help}; repeatable")
    elif spec.kind == "flag":
        parser.add_argument(spec.cli, dest=name, action="store_const", const=True, help=help)
    else:
        parser.add_argument(spec.cli, dest=name, help=help)


class Command(BaseCommand):
    help = "Build a dataset release (JSONL or CSV plus its dataset card) and write it to a file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", required=True, help="Project slug")
        parser.add_argument("--format", help=f"One of {', '.join(ReleaseFormat.values)}")
        parser.add_argument("--out", type=Path, help="Where to write the data file (in a folder that exists)")
        parser.add_argument(
            "--rotate-pseudonym-key",
            action="store_true",
            help="Give the project a new reviewer pseudonym key first (later releases are unlinkable to earlier)",
        )
        parser.add_argument(
            "--card", type=Path, help="Where to write the dataset card (README.md), in a folder that exists"
        )
        parser.add_argument("--title", default="")
        parser.add_argument("--purpose", default="")
        parser.add_argument("--license", default=DEFAULT_LICENSE)
        parser.add_argument("--by", help="Email of the person the release is recorded as made by")
        for name, spec in ReleaseFilters.specs().items():
            add_filter_argument(parser, name, spec)

    def handle(self, *args, **options) -> None:
        project = Project.objects.filter(slug=options["project"]).first()
        if project is None:
            raise CommandError(f"--project: no project with slug {options['project']!r}")
        created_by = None
        if options["by"]:
            created_by = User.objects.filter(email__iexact=options["by"]).first()
            if created_by is None:
                raise CommandError(f"--by: no user with email {options['by']!r}")
        filters = {name: options[name] for name in ReleaseFilters.specs() if options[name] is not None}
        rotate = options["rotate_pseudonym_key"]
        exporting = bool(
            options["format"]
            or options["out"]
            or options["card"]
            or filters
            or options["title"]
            or options["purpose"]
            or options["license"] != DEFAULT_LICENSE
        )
        if rotate and not exporting:
            release_key_rotate(project=project, actor=created_by)
            self.stdout.write(f"The pseudonym key of {project.slug} is rotated: later releases name reviewers anew.")
            return
        missing = [flag for flag in ("--format", "--out") if not options[flag.lstrip("-")]]
        if missing:
            raise CommandError(f"{' and '.join(missing)}: required to export (or give --rotate-pseudonym-key alone)")
        # Every file is checked before the key is rotated or the release built: a path that cannot
        # be written to leaves the project as it was.
        out = output_path("--out", options["out"])
        card = output_path("--card", options["card"]) if options["card"] else None
        if card == out:
            raise CommandError(f"--card: {options['card']} is the --out file; give the card a path of its own")
        try:
            # The key is rotated only if the release it comes with is defined too.
            with transaction.atomic():
                if rotate:
                    release_key_rotate(project=project, actor=created_by)
                release = release_create(
                    project=project,
                    created_by=created_by,
                    format=options["format"],
                    filters=filters,
                    title=options["title"],
                    purpose=options["purpose"],
                    license=options["license"],
                    enqueue=False,
                )
        except ValidationError as exc:
            problems = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
            raise CommandError(f"Nothing exported. {problems}") from exc
        if rotate:
            self.stdout.write(f"The pseudonym key of {project.slug} is rotated: later releases name reviewers anew.")
        release = release_build(release_id=release.pk)
        if release.status != ReleaseStatus.SUCCEEDED:
            raise CommandError(f"Release {release.pk} failed: {release.error}")
        source = Path(settings.MEDIA_ROOT) / release.file_path
        try:
            with source.open("rb") as data:
                write_output("--out", out, lambda target: shutil.copyfileobj(data, target, length=1 << 20))
            if card is not None:
                write_output_text("--card", card, release.card)
        except OSError as exc:
            problem = f"Release {release.pk} is built, but its file {source} cannot be read: {exc.strerror}"
            raise CommandError(problem) from exc
        except CommandError as exc:
            # The release stays recorded: it can be downloaded from the app, or the command run again.
            raise CommandError(f"Release {release.pk} is built, but not copied. {exc}") from exc
        self.stdout.write(
            f"Release {release.pk}: {release.row_count} rows of {release.format} written to {options['out']}\n"
            f"sha256 {release.sha256}"
        )
        definition = ReleaseDefinition.from_release(format=release.format, filters=release.filters)
        if held_back := release_held_back(project=project, filters=definition.filters):
            self.stdout.write(
                f"Held back: {held_back} seed task(s) the filters select are not cleared for release (PHI not "
                f"scanned or an open finding, or an open flag): see the card, and the PHI and Attention pages."
            )
