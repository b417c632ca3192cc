"""The audit trail as JSON Lines, oldest first, to a file or standard output.

python manage.py audit_export --output audit.jsonl
python manage.py audit_export --project cardio --action review_submitted --since 2026-01-01
"""

import sys
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from audit.models import AuditAction
from audit.selectors import audit_export_lines
from curation.models import Project


def _date(option: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{option} {value!r} is not a date; write it as YYYY-MM-DD.") from exc


class Command(BaseCommand):
    help = "Write audit events as JSON Lines, filtered by person, project, action and date."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--output", help="File to write (default: standard output)")
        parser.add_argument("--person", help="Email of the person who acted")
        parser.add_argument("--project", help="Project slug")
        parser.add_argument("--action", choices=AuditAction.values)
        parser.add_argument("--since", help="First day, YYYY-MM-DD")
        parser.add_argument("--until", help="Last day, YYYY-MM-DD (included)")

    def handle(self, *args, **options) -> None:
        filters = {
            "action": options["action"] or "",
            "since": _date("--since", options["since"]),
            "until": _date("--until", options["until"]),
            "actor_id": None,
            "project_id": None,
        }
        if options["person"]:
            person = User.objects.filter(email__iexact=options["person"]).first()
            if person is None:
                raise CommandError(f"--person {options['person']!r}: no account has this email.")
            filters["actor_id"] = person.pk
        if options["project"]:
            project = Project.objects.filter(slug=options["project"]).first()
            if project is None:
                raise CommandError(f"--project {options['project']!r}: no project has this slug.")
            filters["project_id"] = project.pk
        out = open(options["output"], "w", encoding="utf-8") if options["output"] else sys.stdout  # noqa: SIM115
        try:
            count = 0
            for line in audit_export_lines(**filters):
                out.write(line)
                count += 1
        finally:
            if out is not sys.stdout:
                out.close()
        self.stderr.write(f"{count} audit events written.")
