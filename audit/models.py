"""The audit trail: one append-only, hash-chained table of security- and data-relevant actions.

Row-level history of the curated data lives in django-simple-history's tables; this log says who did what,
from where, and when, and each event holds the SHA-256 of its predecessor, so a changed or missing event
breaks the chain (audit.selectors.audit_chain_verify). On PostgreSQL a trigger refuses UPDATE and DELETE
(migration 0002); audit.services.audit_prune is the one writer allowed to delete, and it leaves a signed summary.
"""

from django.conf import settings
from django.db import models

GENESIS_HASH = "0" * 64


class AuditAction(models.TextChoices):
    SIGN_IN = "sign_in", "Signed in"
    SIGN_OUT = "sign_out", "Signed out"
    SIGN_IN_FAILED = "sign_in_failed", "Failed to sign in"
    MFA_ENROLLED = "mfa_enrolled", "Enrolled an authenticator"
    MFA_REMOVED = "mfa_removed", "Removed an authenticator"
    MFA_CODES_REGENERATED = "mfa_codes_regenerated", "Made new recovery codes"
    PASSWORD_CHANGED = "password_changed", "Changed a password"
    TOKEN_CREATED = "token_created", "Created an API token"
    TOKEN_USED = "token_used", "Used an API token"
    TOKEN_REVOKED = "token_revoked", "Revoked an API token"
    TOKENS_REVOKED = "tokens_revoked", "Revoked all API tokens of a person"
    INVITATION_SENT = "invitation_sent", "Sent an invitation"
    INVITATION_ACCEPTED = "invitation_accepted", "Accepted an invitation"
    INVITATION_REVOKED = "invitation_revoked", "Revoked an invitation"
    ROLE_CHANGED = "role_changed", "Changed a role"
    USER_DEACTIVATED = "user_deactivated", "Deactivated a person"
    PROJECT_CREATED = "project_created", "Created a project"
    MEMBER_ADDED = "member_added", "Added a project member"
    MEMBER_REMOVED = "member_removed", "Removed a project member"
    IMPORT_QUEUED = "import_queued", "Queued an import"
    IMPORT_FINISHED = "import_finished", "Finished an import"
    TASK_EDITED = "task_edited", "Edited an item"
    TASK_STATUS_SET = "task_status_set", "Set an item's status"
    REVIEW_SUBMITTED = "review_submitted", "Submitted a review"
    FLAG_RAISED = "flag_raised", "Raised a flag"
    FLAG_CLEARED = "flag_cleared", "Cleared a flag"
    PHI_CLEARED = "phi_cleared", "Cleared a PHI finding"
    PHI_REDACTED = "phi_redacted", "Redacted a PHI finding"
    REVIEWERS_REVEALED = "reviewers_revealed", "Revealed reviewer names"
    GOLD_LABEL_SET = "gold_label_set", "Set a gold label"
    TASK_DECIDED = "task_decided", "Accepted or rejected an item"
    RUBRIC_ACCEPTED = "rubric_accepted", "Accepted a rubric"
    RELEASE_CREATED = "release_created", "Queued a release"
    RELEASE_BUILT = "release_built", "Built a release"
    RELEASE_DOWNLOADED = "release_downloaded", "Downloaded a release file"
    SETTINGS_CHANGED = "settings_changed", "Changed settings"
    AUDIT_EXPORTED = "audit_exported", "Exported the audit trail"
    AUDIT_PRUNED = "audit_pruned", "Pruned the audit trail"


class AuditEvent(models.Model):
    """One action. Written only by audit.services.audit_record, which assigns the id and the hashes under a lock.

    The id is the event's place in the chain (no sequence: ids are consecutive by construction). The actor is
    kept as an id and an email, not a database foreign key: deleting a person must not rewrite their trail.
    `before` and `after` are canonical JSON text, not a JSON column, so that the hashed bytes are the stored
    bytes on every database (PostgreSQL's jsonb rewrites numbers).
    """

    id = models.BigIntegerField(primary_key=True)
    created_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(max_length=254, blank=True, help_text="The actor's email when it happened")
    client_address = models.CharField(max_length=45, blank=True)
    # Checked against AuditAction by audit_record; no database choices, so a new action needs no migration.
    action = models.CharField(max_length=32)
    object_type = models.CharField(max_length=100, blank=True, help_text='app_label.model, e.g. "curation.review"')
    object_id = models.CharField(max_length=64, blank=True)
    project_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    before = models.TextField(blank=True)
    after = models.TextField(blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["action", "id"], name="audit_action_id"),
            models.Index(fields=["actor", "id"], name="audit_actor_id"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} by {self.actor_label or 'the system'}"

    @property
    def action_label(self) -> str:
        return AuditAction(self.action).label if self.action in AuditAction.values else self.action


class AuditChainHead(models.Model):
    """The one row (pk 1) naming the newest event. Writers lock it, so two of them cannot fork the chain, and
    its hash must match the newest event's: deleting events from the end is caught too."""

    last_event_id = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"audit chain head #{self.last_event_id}"
