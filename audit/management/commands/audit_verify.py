"""Walk the audit chain oldest first; exit 1 naming the first broken link.

python manage.py audit_verify
"""

from django.core.management.base import BaseCommand, CommandError

from audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = "Check that no audit event was changed, removed or inserted since it was written."

    def handle(self, *args, **options) -> None:
        report = audit_chain_verify()
        if report.broken is not None:
            raise CommandError(
                f"Audit chain broken at event {report.broken.event_id}: {report.broken.reason} "
                f"({report.checked} events before it verified).",
                returncode=1,
            )
        if report.checked == 0:
            self.stdout.write("The audit trail is empty.")
            return
        self.stdout.write(f"Audit chain intact: events {report.first_id} to {report.last_id} ({report.checked}).")
