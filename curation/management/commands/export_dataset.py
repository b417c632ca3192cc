"""Build a dataset release from the command line and copy its file to --out.

    python manage.py export_dataset --project cardio --format alpaca --out cardio.jsonl \\
        --topic Cardiology --min-reviewers 2 --card cardio.README.md

The release is recorded like one made in the app (same service, same manifest and card), built in
this process rather than on a worker.

    python manage.py export_dataset --project cardio --rotate-pseudonym-key

gives the project a new pseudonym key (alone, or before the export it is given with): releases from
then on name reviewers unlinkably to the releases before.
"""

import os
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from curation.models import Project, ReleaseFormat, ReleaseStatus
from curation.releases_definition import FilterSpec, ReleaseFilters
from curation.services.releases import DEFAULT_LICENSE, release_build, release_create, release_key_rotate


def _copy_atomically(source: Path, target: Path) -> None:
    """Readers of `target` see the old file or the whole new one, never a half-written one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out, open(source, "rb") as data:
            shutil.copyfileobj(data, out, length=1 << 20)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


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
        parser.add_argument("--out", type=Path, help="Where to write the data file")
        parser.add_argument(
            "--rotate-pseudonym-key",
            action="store_true",
            help="Give the project a new reviewer pseudonym key first (later releases are unlinkable to earlier)",
        )
        parser.add_argument("--card", type=Path, help="Where to write the dataset card (README.md)")
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
        if options["rotate_pseudonym_key"]:
            release_key_rotate(project=project, actor=created_by)
            self.stdout.write(f"The pseudonym key of {project.slug} is rotated: later releases name reviewers anew.")
            if not options["format"] and not options["out"]:
                return
        missing = [flag for flag in ("--format", "--out") if not options[flag.lstrip("-")]]
        if missing:
            raise CommandError(f"{' and '.join(missing)}: required to export (or give --rotate-pseudonym-key alone)")
        filters = {name: options[name] for name in ReleaseFilters.specs() if options[name] is not None}
        try:
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
        release = release_build(release_id=release.pk)
        if release.status != ReleaseStatus.SUCCEEDED:
            raise CommandError(f"Release {release.pk} failed: {release.error}")
        _copy_atomically(Path(settings.MEDIA_ROOT) / release.file_path, options["out"])
        if options["card"]:
            options["card"].parent.mkdir(parents=True, exist_ok=True)
            options["card"].write_text(release.card, encoding="utf-8")
        self.stdout.write(
            f"Release {release.pk}: {release.row_count} rows of {release.format} written to {options['out']}\n"
            f"sha256 {release.sha256}"
        )
