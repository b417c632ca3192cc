"""Every action the audit trail promises, done the way people do it (a page or the API, never a service called
directly), writes exactly one event of its kind naming who did it, to what, and in which project.

Each case arranges what the action needs (services and factories are fine there), then returns the action
itself: a request through the test client that returns what the event must name. Only the events the action
writes are counted, so an arrangement that writes events of its own cannot hide a second one. Jobs run as
they would after the request commits (Celery eager), so a release is built and an import run within it.
`test_events.py` reads the events' contents (before, after, addresses) for the same actions.
"""

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Max, Model
from django.test import Client
from django.urls import reverse

from accounts.models import ApiToken, Invitation, Role, User
from accounts.services import api_token_create, invitation_create
from audit.models import AuditAction, AuditEvent
from audit.selectors import audit_chain_verify
from curation.models import (
    AcceptanceEvent,
    GoldLabel,
    ImportJob,
    ItemFlag,
    Judgment,
    Membership,
    Project,
    Release,
    Review,
    RubricGrade,
    TaskStatus,
)
from curation.models.phi import PhiFinding
from curation.selectors.round_judging import round_next_slot
from curation.selectors.rubrics import rubric_criteria, rubric_current_version
from curation.services.members import project_member_add
from curation.services.projects import rating_form_update
from curation.services.releases import release_build, release_create
from curation.services.reviews import review_submit
from curation.services.round_schedules import round_freeze
from curation.services.rounds import round_create
from curation.services.rubrics import CriterionInput, rubric_accept, rubric_create, rubric_submit
from tests.adjudication.answers import SEED_AGREED
from tests.default_vocabulary import ensure_default_vocabulary
from tests.factories import (
    AdminFactory,
    AssignmentFactory,
    ClinicianFactory,
    CuratorFactory,
    MembershipFactory,
    ModelResponseFactory,
    PromptFactory,
    SeedTaskFactory,
)
from tests.projects.test_rating_form_editor import with_severity
from tests.reviews.test_services import SEED_ANSWERS
from tests.rubrics import healthbench_rows

PASSWORD = "a-good-long-passphrase"
NEW_PASSWORD = "another-good-long-passphrase"
SEEDS = [
    {"topic": "Cardiology", "view": "Medical students", "type": "Rewrites", "instruction": f"Explain finding {n}.",
     "input": "<noinput>", "difficulty": "2"}
    for n in range(3)
]  # fmt: skip
PHI_TEXT = "Patient John Smith, DOB 03/14/1931, has angina. What is the differential?"


@dataclass
class World:
    client: Client
    project: Project
    clinician: User  # a member, who can sign in with PASSWORD
    curator: User
    admin: User

    def sign_in(self, user: User) -> None:
        """Through the sign-in form, as allauth's pages that ask for a recent sign-in (MFA) need."""
        response = self.client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
        assert response.status_code == 302, response.content.decode()[:500]

    def reauthenticate(self) -> None:
        """Type the password again, as allauth asks before authenticator changes."""
        response = self.client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
        assert response.status_code == 302, response.content.decode()[:500]


@dataclass
class Expected:
    """What the one event must name. `target` is the object, or (object_type, object_id) for one that is gone."""

    actor: User | None
    target: Model | tuple[str, str] | None
    project: Project | None
    then: Callable[[], None] | None = None  # checked once the request's jobs ran

    def fields(self) -> tuple[Any, ...]:
        if isinstance(self.target, Model):
            object_type, object_id = self.target._meta.label_lower, str(self.target.pk)
        else:
            object_type, object_id = self.target or ("", "")
        actor_id = self.actor.pk if self.actor else None
        return actor_id, object_type, object_id, self.project.pk if self.project else None


Act = Callable[[], Expected]
CASES: list = []


def case(action: str, how: str = "") -> Callable[[Callable[[World], Act]], Callable[[World], Act]]:
    def register(arrange: Callable[[World], Act]) -> Callable[[World], Act]:
        CASES.append(pytest.param(action, arrange, id=f"{action}-{how}" if how else action))
        return arrange

    return register


def ok(response, *statuses: int) -> None:
    assert response.status_code in (statuses or (200, 201, 202, 302)), (
        response.status_code,
        response.content.decode()[:500],
    )


@pytest.fixture
def world(client, project) -> World:
    clinician = ClinicianFactory(email="member@example.org")
    clinician.set_password(PASSWORD)
    clinician.save(update_fields=["password"])
    Membership.objects.create(project=project, user=clinician)
    return World(
        client=client,
        project=project,
        clinician=clinician,
        curator=CuratorFactory(email="curator@example.org"),
        admin=AdminFactory(email="admin@example.org"),
    )


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


# --- signing in and out ---------------------------------------------------------------------------


@case(AuditAction.SIGN_IN)
def sign_in(w: World) -> Act:
    def act() -> Expected:
        w.sign_in(w.clinician)
        return Expected(w.clinician, w.clinician, None)

    return act


@case(AuditAction.SIGN_OUT)
def sign_out(w: World) -> Act:
    w.sign_in(w.clinician)

    def act() -> Expected:
        ok(w.client.post(reverse("account_logout")))
        return Expected(w.clinician, w.clinician, None)

    return act


@case(AuditAction.SIGN_IN_FAILED)
def sign_in_failed(w: World) -> Act:
    def act() -> Expected:
        ok(w.client.post(reverse("account_login"), {"login": w.clinician.email, "password": "wrong"}), 200)
        return Expected(None, None, None)

    return act


@case(AuditAction.PASSWORD_CHANGED)
def password_changed(w: World) -> Act:
    w.sign_in(w.clinician)
    form = {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}

    def act() -> Expected:
        ok(w.client.post(reverse("account_change_password"), form), 302)
        return Expected(w.clinician, w.clinician, None)

    return act


# --- authenticator app (allauth's TOTP pages) -----------------------------------------------------


def totp_enrol(w: World) -> None:
    """Open the enrolment page, read the secret it shows (kept in the session) and type the current code."""
    ok(w.client.get(reverse("mfa_activate_totp")), 200)
    secret = w.client.session[SECRET_SESSION_KEY]
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    ok(w.client.post(reverse("mfa_activate_totp"), {"code": code}), 302)


@case(AuditAction.MFA_ENROLLED)
def mfa_enrolled(w: World) -> Act:
    w.sign_in(w.clinician)
    w.reauthenticate()

    def act() -> Expected:
        totp_enrol(w)
        assert set(Authenticator.objects.filter(user=w.clinician).values_list("type", flat=True)) == {
            "totp",
            "recovery_codes",
        }
        return Expected(w.clinician, w.clinician, None)

    return act


@case(AuditAction.MFA_REMOVED)
def mfa_removed(w: World) -> Act:
    w.sign_in(w.clinician)
    w.reauthenticate()
    totp_enrol(w)

    def act() -> Expected:
        ok(w.client.post(reverse("mfa_deactivate_totp")), 302)
        assert not Authenticator.objects.filter(user=w.clinician).exists()
        return Expected(w.clinician, w.clinician, None)

    return act


@case(AuditAction.MFA_CODES_REGENERATED)
def mfa_codes_regenerated(w: World) -> Act:
    w.sign_in(w.clinician)
    w.reauthenticate()
    totp_enrol(w)

    def act() -> Expected:
        ok(w.client.post(reverse("mfa_generate_recovery_codes")), 302)
        return Expected(w.clinician, w.clinician, None)

    return act


# --- API tokens -----------------------------------------------------------------------------------


@case(AuditAction.TOKEN_CREATED)
def token_created(w: World) -> Act:
    w.client.force_login(w.clinician)

    def act() -> Expected:
        ok(w.client.post(reverse("api_token_list"), {"name": "export script", "scope": "read", "days": 30}), 200)
        return Expected(w.clinician, ApiToken.objects.get(), None)

    return act


@case(AuditAction.TOKEN_USED)
def token_used(w: World) -> Act:
    token, key = api_token_create(user=w.clinician, name="script")

    def act() -> Expected:
        ok(w.client.get(reverse("api_me"), headers={"Authorization": f"Token {key}"}), 200)
        return Expected(w.clinician, token, None)

    return act


@case(AuditAction.TOKEN_REVOKED)
def token_revoked(w: World) -> Act:
    token, _ = api_token_create(user=w.clinician, name="script")
    w.client.force_login(w.clinician)

    def act() -> Expected:
        ok(w.client.post(reverse("api_token_revoke", args=[token.pk])), 302)
        return Expected(w.clinician, token, None)

    return act


@case(AuditAction.TOKENS_REVOKED, "role-change")
def tokens_revoked(w: World) -> Act:
    api_token_create(user=w.clinician, name="script")
    api_token_create(user=w.clinician, name="notebook")
    w.client.force_login(w.admin)

    def act() -> Expected:
        ok(w.client.post(reverse("person_role", args=[w.clinician.pk]), {"role": Role.CURATOR}), 302)
        assert not ApiToken.objects.filter(revoked_at__isnull=True).exists()
        return Expected(w.admin, w.clinician, None)

    return act


# --- people and their access ----------------------------------------------------------------------


@case(AuditAction.INVITATION_SENT)
def invitation_sent(w: World) -> Act:
    w.client.force_login(w.admin)

    def act() -> Expected:
        ok(w.client.post(reverse("invitation_list"), {"email": "new@example.org", "role": Role.CLINICIAN}), 302)
        return Expected(w.admin, Invitation.objects.get(), None)

    return act


@case(AuditAction.INVITATION_ACCEPTED)
def invitation_accepted(w: World) -> Act:
    invitation = invitation_create(invited_by=w.admin, email="new@example.org")

    def act() -> Expected:
        url = reverse("invitation_accept", args=[invitation.token])
        ok(w.client.post(url, {"password1": PASSWORD, "password2": PASSWORD}), 302)
        return Expected(User.objects.get(email="new@example.org"), invitation, None)

    return act


@case(AuditAction.INVITATION_REVOKED)
def invitation_revoked(w: World) -> Act:
    invitation = invitation_create(invited_by=w.admin, email="new@example.org")
    w.client.force_login(w.admin)

    def act() -> Expected:
        ok(w.client.post(reverse("invitation_revoke", args=[invitation.pk])), 302)
        return Expected(w.admin, invitation, None)

    return act


@case(AuditAction.ROLE_CHANGED)
def role_changed(w: World) -> Act:
    w.client.force_login(w.admin)

    def act() -> Expected:
        ok(w.client.post(reverse("person_role", args=[w.clinician.pk]), {"role": Role.CURATOR}), 302)
        return Expected(w.admin, w.clinician, None)

    return act


@case(AuditAction.USER_DEACTIVATED)
def user_deactivated(w: World) -> Act:
    w.client.force_login(w.admin)

    def act() -> Expected:
        ok(w.client.post(reverse("person_deactivate", args=[w.clinician.pk])), 302)
        return Expected(w.admin, w.clinician, None)

    return act


@case(AuditAction.PROJECT_CREATED)
def project_created(w: World) -> Act:
    w.client.force_login(w.curator)
    form = {"name": "Nephrology seeds", "slug": "nephro", "reviewers_per_item": 2, "review_visibility": "after_submit"}
    form |= {"rule": "any", "min_spread": 2}

    def act() -> Expected:
        ok(w.client.post(reverse("project_create"), form), 302)
        created = Project.objects.get(slug="nephro")
        return Expected(w.curator, created, created)

    return act


@case(AuditAction.MEMBER_ADDED)
def member_added(w: World) -> Act:
    newcomer = ClinicianFactory(email="newcomer@example.org")
    w.client.force_login(w.curator)

    def act() -> Expected:
        ok(w.client.post(reverse("member_list", args=[w.project.slug]), {"people": [newcomer.pk]}), 302)
        return Expected(w.curator, Membership.objects.get(user=newcomer), w.project)

    return act


@case(AuditAction.MEMBER_REMOVED)
def member_removed(w: World) -> Act:
    newcomer = ClinicianFactory(email="newcomer@example.org")
    membership = project_member_add(project=w.project, user=newcomer)
    w.client.force_login(w.curator)

    def act() -> Expected:
        ok(w.client.post(reverse("member_remove", args=[w.project.slug, newcomer.pk])), 302)
        return Expected(w.curator, ("curation.membership", str(membership.pk)), w.project)

    return act


# --- imports --------------------------------------------------------------------------------------


def import_previewed(w: World) -> str:
    """A file uploaded on the import page, waiting for its preview to be confirmed: the job's address."""
    ensure_default_vocabulary()
    w.client.force_login(w.curator)
    upload = SimpleUploadedFile("seed.json", json.dumps(SEEDS).encode(), content_type="application/json")
    response = w.client.post(reverse("import_list", args=[w.project.slug]), {"file": upload})
    ok(response, 302)
    return response["Location"]


def import_succeeded(job: ImportJob, *, written: int) -> None:
    job.refresh_from_db()
    assert (job.status, job.records_written) == ("succeeded", written), job.report


@case(AuditAction.IMPORT_QUEUED, "page")
def import_queued(w: World) -> Act:
    job_page = import_previewed(w)

    def act() -> Expected:
        ok(w.client.post(job_page, {"confirm": "1"}), 302)
        return Expected(w.curator, ImportJob.objects.get(), w.project)

    return act


@case(AuditAction.IMPORT_QUEUED, "api")
@case(AuditAction.IMPORT_FINISHED, "api")
def import_through_the_api(w: World) -> Act:
    ensure_default_vocabulary()
    w.client.force_login(w.curator)

    def act() -> Expected:
        upload = SimpleUploadedFile("seed.json", json.dumps(SEEDS).encode(), content_type="application/json")
        ok(w.client.post(reverse("api_import_list", args=[w.project.slug]), {"file": upload}), 202)
        job = ImportJob.objects.get()
        return Expected(w.curator, job, w.project, then=lambda: import_succeeded(job, written=3))

    return act


@case(AuditAction.IMPORT_FINISHED, "page")
def import_finished(w: World) -> Act:
    job_page = import_previewed(w)

    def act() -> Expected:
        ok(w.client.post(job_page, {"confirm": "1"}), 302)  # the job runs once the confirmation commits
        job = ImportJob.objects.get()
        return Expected(w.curator, job, w.project, then=lambda: import_succeeded(job, written=3))

    return act


@case(AuditAction.IMPORT_FINISHED, "healthbench-file-page")
def healthbench_imported(w: World) -> Act:
    w.client.force_login(w.curator)
    rows = "".join(json.dumps(row) + "\n" for row in healthbench_rows.rubric_rows()[:2])

    def act() -> Expected:
        upload = SimpleUploadedFile("healthbench.jsonl", rows.encode(), content_type="application/json")
        ok(w.client.post(reverse("rubric_upload", args=[w.project.slug]), {"file": upload}), 302)
        return Expected(w.curator, w.project, w.project)

    return act


@case(AuditAction.IMPORT_FINISHED, "judge-verdicts-api")
def judge_verdicts_imported(w: World) -> Act:
    reviewer = ClinicianFactory(email="second@example.org")
    MembershipFactory(project=w.project, user=reviewer)
    prompt, rubric = accepted_rubric(w, reviewer)
    rubric_accept(rubric_id=rubric.pk, reviewer=reviewer)
    ModelResponseFactory(prompt=prompt, seed_task=None, model_name="model-a", text="Call 999 now.")
    w.client.force_login(w.curator)
    verdict = {"prompt_id": "chest-pain", "model": "model-a", "criterion_index": 0, "judge": "grader", "met": True}

    def act() -> Expected:
        url = reverse("api_judge_verdicts", args=[w.project.slug])
        ok(w.client.post(url, {"verdicts": [verdict]}, content_type="application/json"), 201)
        return Expected(w.curator, w.project, w.project)

    return act


# --- the data: edits, reviews, flags, PHI ---------------------------------------------------------


@case(AuditAction.TASK_EDITED)
def task_edited(w: World) -> Act:
    task = SeedTaskFactory(project=w.project, instruction="Explain angina.")
    w.client.force_login(w.clinician)
    form = {
        **{name: getattr(task, name) for name in ("input", "reference_output", "topic_raw", "view_raw")},
        **{"task_type_raw": task.task_type_raw, "difficulty": str(task.difficulty or "")},
        **{"instruction": "Explain stable angina.", "rationale": "More precise", "version": str(task.version)},
    }

    def act() -> Expected:
        ok(w.client.post(reverse("task_edit", args=[w.project.slug, task.pk]), form), 302)
        return Expected(w.clinician, task, w.project)

    return act


@case(AuditAction.REVIEW_SUBMITTED, "api-review")
def review_submitted(w: World) -> Act:
    assignment = AssignmentFactory(seed_task=SeedTaskFactory(project=w.project), reviewer=w.clinician)
    w.client.force_login(w.clinician)
    body = {"assignment": assignment.pk, "answers": SEED_ANSWERS, "submission_key": str(uuid.uuid4())}

    def act() -> Expected:
        url = reverse("api_review_submit", args=[w.project.slug])
        ok(w.client.post(url, body, content_type="application/json"), 201)
        return Expected(w.clinician, Review.objects.get(), w.project)

    return act


@case(AuditAction.REVIEW_SUBMITTED, "round-judgment-page")
def judgment_submitted(w: World) -> Act:
    models = ("model-alpha", "model-beta")
    for n in range(2):
        prompt = PromptFactory(project=w.project, input="", instruction=f"Prompt {n}")
        for model in models:
            ModelResponseFactory(prompt=prompt, seed_task=None, model_name=model, text=f"Answer of {model}")
    evaluation_round = round_freeze(
        evaluation_round=round_create(
            project=w.project,
            created_by=w.curator,
            name="Blind round",
            mode="pairwise",
            models=list(models),
            reviewers=[w.clinician],
            judgments_per_item=1,
        )
    )
    slot = round_next_slot(evaluation_round=evaluation_round, reviewer=w.clinician)
    answers = {"a-overall": "a", "a-correctness": "b", "a-helpfulness": "tie", "a-harm": "both_bad"}
    w.client.force_login(w.clinician)

    def act() -> Expected:
        url = reverse("round_judge", args=[w.project.slug, evaluation_round.pk])
        ok(w.client.post(url, {"slot": slot.pk, **answers}), 302)
        return Expected(w.clinician, Judgment.objects.get(), w.project)

    return act


def accepted_rubric(w: World, reviewer: User):
    prompt = PromptFactory(project=w.project, external_id="chest-pain", instruction="I have chest pain. What do I do?")
    criteria = [
        CriterionInput(text="Advises calling emergency services", points=8, axis="accuracy"),
        CriterionInput(text="Asks how long the pain has lasted", points=4, axis="context_awareness"),
    ]
    rubric = rubric_create(prompt=prompt, author=w.clinician, criteria=criteria)
    rubric_submit(rubric_id=rubric.pk, author=w.clinician)
    return prompt, rubric


@case(AuditAction.RUBRIC_ACCEPTED)
def rubric_accepted(w: World) -> Act:
    reviewer = ClinicianFactory(email="second@example.org")
    MembershipFactory(project=w.project, user=reviewer)
    _, rubric = accepted_rubric(w, reviewer)
    w.client.force_login(reviewer)

    def act() -> Expected:
        ok(w.client.post(reverse("rubric_accept", args=[w.project.slug, rubric.pk])), 302)
        return Expected(reviewer, rubric, w.project)

    return act


@case(AuditAction.REVIEW_SUBMITTED, "rubric-grade-page")
def rubric_graded(w: World) -> Act:
    reviewer = ClinicianFactory(email="second@example.org")
    MembershipFactory(project=w.project, user=reviewer)
    prompt, rubric = accepted_rubric(w, reviewer)
    w.client.force_login(reviewer)
    ok(w.client.post(reverse("rubric_accept", args=[w.project.slug, rubric.pk])), 302)
    response = ModelResponseFactory(prompt=prompt, seed_task=None, model_name="model-a", text="Call 999 now.")
    criteria = rubric_criteria(version=rubric_current_version(rubric=rubric))
    w.client.force_login(w.clinician)

    def act() -> Expected:
        url = reverse("rubric_grade", args=[w.project.slug, response.pk])
        ok(w.client.post(url, {f"mark-{c.pk}": "1" for c in criteria}), 302)
        return Expected(w.clinician, RubricGrade.objects.get(), w.project)

    return act


@case(AuditAction.REVIEW_SUBMITTED, "review-page-grading-the-prompts-rubric")
def review_with_rubric_submitted(w: World) -> Act:
    """The review's marks become the reviewer's rubric grade in the same submission: one event, the review's."""
    form = {"fields": [{"key": "overall", "label": "Overall", "kind": "ordinal_scale", "min": 1, "max": 5}]}
    form["fields"].append({"key": "rubric", "label": "Rubric", "kind": "rubric", "criteria_from": "prompt"})
    rating_form_update(project=w.project, target="response", definition=form, actor=w.curator)
    reviewer = ClinicianFactory(email="second@example.org")
    MembershipFactory(project=w.project, user=reviewer)
    prompt, rubric = accepted_rubric(w, reviewer)
    rubric_accept(rubric_id=rubric.pk, reviewer=reviewer)
    response = ModelResponseFactory(prompt=prompt, seed_task=None, model_name="model-a", text="Call 999 now.")
    assignment = AssignmentFactory(seed_task=None, response=response, reviewer=w.clinician)
    criteria = rubric_criteria(version=rubric_current_version(rubric=rubric))
    posted = {"a-overall": "4", "submission_key": str(uuid.uuid4())} | {f"a-rubric.{c.pk}": "1" for c in criteria}
    w.client.force_login(w.clinician)

    def act() -> Expected:
        ok(w.client.post(reverse("review_item", args=[w.project.slug, assignment.pk]), posted), 302)
        assert RubricGrade.objects.filter(grader=w.clinician).count() == 1
        return Expected(w.clinician, Review.objects.get(), w.project)

    return act


@case(AuditAction.FLAG_RAISED)
def flag_raised(w: World) -> Act:
    assignment = AssignmentFactory(seed_task=SeedTaskFactory(project=w.project), reviewer=w.clinician)
    w.client.force_login(w.clinician)

    def act() -> Expected:
        url = reverse("review_flag", args=[w.project.slug, assignment.pk])
        ok(w.client.post(url, {"kind": "unsafe", "note": "Wrong dose"}), 302)
        return Expected(w.clinician, ItemFlag.objects.get(), w.project)

    return act


@case(AuditAction.FLAG_CLEARED)
def flag_cleared(w: World) -> Act:
    assignment = AssignmentFactory(seed_task=SeedTaskFactory(project=w.project), reviewer=w.clinician)
    w.client.force_login(w.clinician)
    ok(w.client.post(reverse("review_flag", args=[w.project.slug, assignment.pk]), {"kind": "unsafe"}), 302)
    flag = ItemFlag.objects.get()
    w.client.force_login(w.curator)

    def act() -> Expected:
        ok(w.client.post(reverse("flag_clear", args=[w.project.slug, flag.pk]), {"note": "Dose corrected"}), 302)
        return Expected(w.curator, flag, w.project)

    return act


def phi_findings(w: World) -> tuple[PhiFinding, PhiFinding]:
    """A task scanned as it was made (the factory scans, as every path that writes a text does): a name, a date."""
    task = SeedTaskFactory(project=w.project, instruction=PHI_TEXT)
    name, date = PhiFinding.objects.filter(item_task=task).order_by("start")
    assert (name.kind, date.kind) == ("NAME", "DATE")
    return name, date


@case(AuditAction.PHI_CLEARED)
def phi_cleared(w: World) -> Act:
    name, _ = phi_findings(w)
    w.client.force_login(w.curator)

    def act() -> Expected:
        url = reverse("phi_finding_clear", args=[w.project.slug, name.pk])
        ok(w.client.post(url, {"reason": "A textbook name"}), 302)
        return Expected(w.curator, name, w.project)

    return act


@case(AuditAction.PHI_REDACTED)
def phi_redacted(w: World) -> Act:
    _, date = phi_findings(w)
    w.client.force_login(w.curator)

    def act() -> Expected:
        ok(w.client.post(reverse("phi_finding_redact", args=[w.project.slug, date.pk])), 302)
        return Expected(w.curator, date, w.project)

    return act


# --- adjudication and acceptance ------------------------------------------------------------------


def disputed_task(w: World):
    task = SeedTaskFactory(project=w.project)
    for n, validity in enumerate((1, 5)):
        reviewer = ClinicianFactory(email=f"rater{n}@example.org")
        MembershipFactory(project=w.project, user=reviewer)
        review_submit(
            reviewer=reviewer,
            schema=w.project.seed_schema,
            seed_task=task,
            answers={**SEED_AGREED, "clinical_validity": validity},
        )
    return task


@case(AuditAction.REVIEWERS_REVEALED)
def reviewers_revealed(w: World) -> Act:
    task = disputed_task(w)
    w.client.force_login(w.curator)

    def act() -> Expected:
        ok(w.client.get(reverse("adjudicate_task", args=[w.project.slug, task.pk]), {"reveal": "1"}), 200)
        return Expected(w.curator, task, w.project)

    return act


@case(AuditAction.GOLD_LABEL_SET)
def gold_label_set(w: World) -> Act:
    task = disputed_task(w)
    w.client.force_login(w.curator)
    body = {
        "item_type": "seed_task",
        "item_id": task.pk,
        "values": {**SEED_AGREED, "clinical_validity": 3},
        "reason": "guideline_gap",
        "expected_version": 0,
    }

    def act() -> Expected:
        url = reverse("api_adjudicate", args=[w.project.slug])
        ok(w.client.post(url, body, content_type="application/json"), 201)
        return Expected(w.curator, GoldLabel.objects.get(), w.project)

    return act


@case(AuditAction.TASK_DECIDED)
def task_decided(w: World) -> Act:
    task = SeedTaskFactory(project=w.project, status=TaskStatus.IN_REVIEW)
    w.client.force_login(w.curator)

    def act() -> Expected:
        url = reverse("task_decide", args=[w.project.slug, task.pk])
        ok(w.client.post(url, {"action": "accepted", "rationale": "Reviewed twice"}), 302)
        return Expected(w.curator, AcceptanceEvent.objects.get(), w.project)

    return act


@case(AuditAction.TASK_STATUS_SET, "acceptance")
def task_status_set(w: World) -> Act:
    task = SeedTaskFactory(project=w.project, status=TaskStatus.IN_REVIEW)
    w.client.force_login(w.curator)

    def act() -> Expected:
        url = reverse("task_decide", args=[w.project.slug, task.pk])
        ok(w.client.post(url, {"action": "accepted", "rationale": "Reviewed twice"}), 302)
        task.refresh_from_db()
        assert task.status == TaskStatus.ACCEPTED
        return Expected(w.curator, task, w.project)

    return act


# --- releases -------------------------------------------------------------------------------------

RELEASE_FORM = {"format": "alpaca", "license": "CC BY 4.0", "statuses": ["accepted"], "min_reviewers": "0"}


def release_succeeded(release: Release) -> None:
    release.refresh_from_db()
    assert (release.status, release.row_count) == ("succeeded", 1), release.error


@case(AuditAction.RELEASE_CREATED, "page")
@case(AuditAction.RELEASE_BUILT, "page")
def release_through_the_page(w: World) -> Act:
    SeedTaskFactory(project=w.project, status=TaskStatus.ACCEPTED, reference_output="Rest, fluids.")
    w.client.force_login(w.admin)

    def act() -> Expected:
        ok(w.client.post(reverse("release_list", args=[w.project.slug]), RELEASE_FORM), 302)
        release = Release.objects.get()
        return Expected(w.admin, release, w.project, then=lambda: release_succeeded(release))

    return act


@case(AuditAction.RELEASE_CREATED, "api")
def release_through_the_api(w: World) -> Act:
    SeedTaskFactory(project=w.project, status=TaskStatus.ACCEPTED, reference_output="Rest, fluids.")
    w.client.force_login(w.admin)

    def act() -> Expected:
        url = reverse("api_release_list", args=[w.project.slug])
        ok(w.client.post(url, {"format": "alpaca", "filters": {}}, content_type="application/json"), 202)
        return Expected(w.admin, Release.objects.get(), w.project)

    return act


def built_release(w: World) -> Release:
    SeedTaskFactory(project=w.project, status=TaskStatus.ACCEPTED, reference_output="Rest, fluids.")
    release = release_create(project=w.project, created_by=w.admin, format="alpaca", enqueue=False)
    return release_build(release_id=release.pk)


def release_downloaded(route: str) -> Callable[[World], Act]:
    def arrange(w: World) -> Act:
        release = built_release(w)
        w.client.force_login(w.admin)

        def act() -> Expected:
            ok(w.client.get(reverse(route, args=[w.project.slug, release.pk])), 200)
            return Expected(w.admin, release, w.project)

        return act

    return arrange


for _route in ("release_download", "release_card", "api_release_download", "api_release_card"):
    case(AuditAction.RELEASE_DOWNLOADED, _route)(release_downloaded(_route))


# --- settings -------------------------------------------------------------------------------------


@case(AuditAction.SETTINGS_CHANGED, "project-settings")
def project_settings_changed(w: World) -> Act:
    w.client.force_login(w.curator)
    p = w.project
    form = {
        **{"name": p.name, "description": p.description, "guidelines": p.guidelines, "reviewers_per_item": 4},
        **{"review_visibility": p.review_visibility, "task_editors": p.task_editors},
        # The disagreement rule as it is (the defaults): only the project's own settings change.
        **{"accepted_task_edits": p.accepted_task_edits, "rule": "spread", "min_spread": 2},
    }

    def act() -> Expected:
        ok(w.client.post(reverse("project_settings", args=[p.slug]), form), 302)
        return Expected(w.curator, p, p)

    return act


@case(AuditAction.SETTINGS_CHANGED, "rating-form")
def rating_form_changed(w: World) -> Act:
    w.client.force_login(w.curator)

    def act() -> Expected:
        url = reverse("rating_form_edit", args=[w.project.slug, "response"])
        ok(w.client.post(url, {**with_severity(w.project), "action": "save"}), 302)
        return Expected(w.curator, w.project, w.project)

    return act


@case(AuditAction.SETTINGS_CHANGED, "adjudication-settings")
def adjudication_settings_changed(w: World) -> Act:
    w.client.force_login(w.curator)

    def act() -> Expected:
        url = reverse("adjudication_settings", args=[w.project.slug])
        ok(w.client.post(url, {"rule": "spread", "min_spread": "3"}), 302)
        return Expected(w.curator, w.project.adjudication_settings, w.project)

    return act


@case(AuditAction.SETTINGS_CHANGED, "rubric-settings")
def rubric_settings_changed(w: World) -> Act:
    w.client.force_login(w.curator)

    def act() -> Expected:
        ok(w.client.post(reverse("rubric_settings", args=[w.project.slug]), {}), 302)  # points hidden
        return Expected(w.curator, w.project.rubric_settings, w.project)

    return act


@case(AuditAction.SETTINGS_CHANGED, "archive")
def project_archived(w: World) -> Act:
    w.client.force_login(w.curator)

    def act() -> Expected:
        ok(w.client.post(reverse("project_archive", args=[w.project.slug])), 302)
        return Expected(w.curator, w.project, w.project)

    return act


@case(AuditAction.AUDIT_EXPORTED)
def audit_exported(w: World) -> Act:
    w.client.force_login(w.admin)

    def act() -> Expected:
        response = w.client.get(reverse("audit_export"), {"action": AuditAction.SIGN_IN})
        ok(response, 200)
        b"".join(response.streaming_content)
        return Expected(w.admin, None, None)

    return act


# --- the test -------------------------------------------------------------------------------------

# Pruning is the one action only the command line does (audit_prune); test_chain.py covers it.
NOT_ON_A_PAGE = {AuditAction.AUDIT_PRUNED}


def test_every_audit_action_has_a_case_done_through_a_page_or_the_api():
    covered = {param.values[0] for param in CASES}
    assert covered == set(AuditAction.values) - NOT_ON_A_PAGE


@pytest.mark.parametrize(("action", "arrange"), CASES)
def test_the_action_writes_exactly_one_event_naming_actor_object_and_project(
    action, arrange, world, django_capture_on_commit_callbacks
):
    act = arrange(world)
    last = AuditEvent.objects.aggregate(last=Max("id"))["last"] or 0

    with django_capture_on_commit_callbacks(execute=True):
        expected = act()
    if expected.then is not None:
        expected.then()

    events = list(AuditEvent.objects.filter(id__gt=last, action=action))
    assert len(events) == 1, f"{len(events)} {action} events: {[(e.object_type, e.object_id) for e in events]}"
    [event] = events
    assert (event.actor_id, event.object_type, event.object_id, event.project_id) == expected.fields()
    assert event.actor_label == (expected.actor.email if expected.actor else "")
    assert audit_chain_verify().broken is None
