"""Build a dataset release from the command line and copy its file to --out.

    python manage.py export_dataset --project cardio --format alpaca --out cardio.jsonl \\
        --topic Cardiology --min-reviewers 2 --card cardio.README.md

The release is recorded like one made in the app (same service, same manifest and card), built in
this process rather than on a worker.
"""

import os
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from curation.models import Project, ReleaseFormat, ReleaseStatus, TaskStatus
from curation.services.releases import DEFAULT_LICENSE, release_build, release_create


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


class Command(BaseCommand):
    help = "Build a dataset release (JSONL or CSV plus its dataset card) and write it to a file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", required=True, help="Project slug")
        parser.add_argument("--format", required=True, choices=ReleaseFormat.values)
        parser.add_argument("--out", required=True, type=Path, help="Where to write the data file")
        parser.add_argument("--card", type=Path, help="Where to write the dataset card (README.md)")
        parser.add_argument("--title", default="")
        parser.add_argument("--purpose", default="")
        parser.add_argument("--license", default=DEFAULT_LICENSE)
        parser.add_argument("--by", help="Email of the person the release is recorded as made by")
        parser.add_argument(
            "--status", action="append", choices=TaskStatus.values, help="Task status to include (repeatable)"
        )
        parser.add_argument("--min-reviewers", type=int, default=0)
        parser.add_argument(
            "--min-agreement", type=float, help="0-1, alpaca and chat: items whose per-item agreement is at least this"
        )
        parser.add_argument("--topic", action="append", default=[], help="Repeatable")
        parser.add_argument("--view", action="append", default=[], help="Repeatable")
        parser.add_argument("--type", action="append", default=[], help="Task type, repeatable")
        parser.add_argument("--difficulty", action="append", type=int, default=[], help="1-5, repeatable")
        parser.add_argument("--created-from", help="YYYY-MM-DD")
        parser.add_argument("--created-to", help="YYYY-MM-DD")
        parser.add_argument("--system-prompt", default="", help="For the chat format")
        parser.add_argument(
            "--round",
            action="append",
            type=int,
            default=[],
            help="Preference format: an evaluation round to take majority pairs from, by id (repeatable; "
            "default: every frozen or closed pairwise round of the project)",
        )
        parser.add_argument(
            "--round-axis", default="overall", help="Preference format: the pairwise question whose majority counts"
        )

    def handle(self, *args, **options) -> None:
        project = Project.objects.filter(slug=options["project"]).first()
        if project is None:
            raise CommandError(f"--project: no project with slug {options['project']!r}")
        created_by = None
        if options["by"]:
            created_by = User.objects.filter(email__iexact=options["by"]).first()
            if created_by is None:
                raise CommandError(f"--by: no user with email {options['by']!r}")
        filters = {
            "statuses": options["status"] or [TaskStatus.ACCEPTED],
            "min_reviewers": options["min_reviewers"],
            "min_agreement": options["min_agreement"],
            "topics": options["topic"],
            "views": options["view"],
            "types": options["type"],
            "difficulties": options["difficulty"],
            "created_from": options["created_from"],
            "created_to": options["created_to"],
            "system_prompt": options["system_prompt"],
            "rounds": options["round"],
            "round_axis": options["round_axis"],
        }
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
