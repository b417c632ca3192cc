"""Delete audit events older than CONCORD_AUDIT_RETENTION_DAYS, leaving a signed summary of them.

python manage.py audit_prune
"""

from django.conf import settings
from django.core.management.base import BaseCommand

from audit.services import audit_prune


class Command(BaseCommand):
    help = "Delete audit events past the retention period; a signed summary event keeps the chain verifiable."

    def handle(self, *args, **options) -> None:
        summary = audit_prune()
        days = settings.CONCORD_AUDIT_RETENTION_DAYS
        if summary is None:
            self.stdout.write(f"No audit events are older than {days} days; nothing pruned.")
            return
        self.stdout.write(f"Pruned the audit events older than {days} days; summary: event {summary.pk}.")
