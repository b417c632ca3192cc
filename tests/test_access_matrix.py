"""Who may see and do what, for every route the project defines.

The routes come from the URL resolver, so a new route without a rule here fails
`test_every_route_has_an_access_rule`. Each rule gives the method and the expected status per
persona: anonymous, a clinician who is a member of the project, a clinician who is not, a
curator and an admin. Third-party routes (Django admin, allauth) are guarded by their own apps and
checked separately below.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import Invitation
from accounts.services import api_token_create
from curation.models import ImportJob, ItemFlag, PhiFinding
from curation.services.disagreements import disagreements_refresh
from curation.services.round_results import round_results_refresh
from tests.factories import AssignmentFactory, ModelResponseFactory, SeedTaskFactory

PERSONAS = ("anonymous", "clinician", "outsider", "curator", "admin")
LOGIN = "login"  # a redirect to the login page
PHI_ACTIONS = ("phi_scan_start", "phi_finding_clear", "phi_finding_redact")

# Anonymous HTML requests go to the login page; anonymous API requests get 401.
MEMBERS_ONLY = {"anonymous": LOGIN, "clinician": 200, "outsider": 404, "curator": 200, "admin": 200}
SIGNED_IN = {"anonymous": LOGIN, "clinician": 200, "outsider": 200, "curator": 200, "admin": 200}
ADMINS_ONLY = {"anonymous": LOGIN, "clinician": 403, "outsider": 403, "curator": 403, "admin": 200}
API_MEMBERS_ONLY = {"anonymous": 401, "clinician": 200, "outsider": 404, "curator": 200, "admin": 200}
API_SIGNED_IN = {"anonymous": 401, "clinician": 200, "outsider": 200, "curator": 200, "admin": 200}
EVERYONE = dict.fromkeys(PERSONAS, 200)
OWN_ASSIGNMENT = {"anonymous": LOGIN, "clinician": 200, "outsider": 404, "curator": 404, "admin": 404}
CURATORS_ONLY = {"anonymous": LOGIN, "clinician": 403, "outsider": 404, "curator": 200, "admin": 200}
RELEASE_MAKERS = {"anonymous": LOGIN, "clinician": 403, "outsider": 404, "curator": 403, "admin": 200}
CURATORS_ONLY = {"anonymous": LOGIN, "clinician": 403, "outsider": 404, "curator": 200, "admin": 200}
API_CURATORS_ONLY = {"anonymous": 401, "clinician": 403, "outsider": 404, "curator": 200, "admin": 200}
API_RELEASE_MAKERS = {"anonymous": 401, "clinician": 403, "outsider": 404, "curator": 403, "admin": 200}

RULES = {
    "healthz": ("get", EVERYONE),
    "favicon": ("get", dict.fromkeys(PERSONAS, 301)),
    "dashboard": ("get", SIGNED_IN),
    "profile": ("get", SIGNED_IN),
    "api_token_list": ("get", SIGNED_IN),
    "session_keepalive": ("get", {**SIGNED_IN, **dict.fromkeys(("clinician", "outsider", "curator", "admin"), 204)}),
    # A token is revoked only by its owner (the admin here); anyone else is told it does not exist.
    "api_token_revoke": ("post", {"anonymous": LOGIN, "clinician": 404, "outsider": 404, "curator": 404, "admin": 302}),
    "task_list": ("get", MEMBERS_ONLY),
    "project_guidelines": ("get", MEMBERS_ONLY),
    "task_detail": ("get", MEMBERS_ONLY),
    "task_edit": ("get", MEMBERS_ONLY),
    # Agreement reveals how reviewers answered: curators and admins only (blind review).
    "project_agreement": ("get", {"anonymous": LOGIN, "clinician": 403, "outsider": 404, "curator": 200, "admin": 200}),
    "project_agreement_recompute": (
        "post",
        {"anonymous": LOGIN, "clinician": 403, "outsider": 404, "curator": 302, "admin": 302},
    ),
    "invitation_list": ("get", ADMINS_ONLY),
    "people_list": ("get", ADMINS_ONLY),
    "member_list": ("get", CURATORS_ONLY),
    # Taking the world's clinician off the project: curators and admins; the clinician may not.
    "member_remove": ("post", {**CURATORS_ONLY, "curator": 302, "admin": 302}),
    # Creating, changing and archiving projects: curators and admins. Pages outside a project answer 403
    # to every clinician; a project's settings answer 404 to a clinician who is not its member.
    "project_create": ("get", {**CURATORS_ONLY, "outsider": 403}),
    "guidelines_preview": ("post", {**CURATORS_ONLY, "outsider": 403}),
    "project_archived_list": ("get", {**CURATORS_ONLY, "outsider": 403}),
    "project_settings": ("get", CURATORS_ONLY),
    "project_archive": ("post", {**CURATORS_ONLY, "curator": 302, "admin": 302}),
    "project_unarchive": ("post", {**CURATORS_ONLY, "curator": 302, "admin": 302}),
    "rating_form_edit": ("get", CURATORS_ONLY),
    "rating_form_preview": ("post", CURATORS_ONLY),
    # Changing a person: admins only; the person here is the clinician, not the admin themselves.
    "person_role": ("post", {**ADMINS_ONLY, "admin": 302}),
    "person_deactivate": ("post", {**ADMINS_ONLY, "admin": 302}),
    "person_releases": ("post", {**ADMINS_ONLY, "admin": 302}),
    "invitation_revoke": ("post", {**ADMINS_ONLY, "admin": 302}),
    "invitation_accept": ("get", EVERYONE),
    # The audit trail names everyone's actions and addresses: admins only.
    "audit_list": ("get", ADMINS_ONLY),
    "audit_export": ("get", ADMINS_ONLY),
    "api_me": ("get", API_SIGNED_IN),
    "api_project_list": ("get", API_SIGNED_IN),
    "api_project_detail": ("get", API_MEMBERS_ONLY),
    "api_task_list": ("get", API_MEMBERS_ONLY),
    "api_task_detail": ("get", API_MEMBERS_ONLY),
    # Releases: admins, and curators granted curation.make_release (the plain curator here is not).
    "release_list": ("get", RELEASE_MAKERS),
    "release_preview": ("get", RELEASE_MAKERS),
    "release_detail": ("get", RELEASE_MAKERS),
    "release_download": ("get", RELEASE_MAKERS),
    "release_card": ("get", RELEASE_MAKERS),
    "release_retry": ("post", {**RELEASE_MAKERS, "admin": 302}),
    "api_release_list": ("get", API_RELEASE_MAKERS),
    "api_release_detail": ("get", API_RELEASE_MAKERS),
    "api_release_download": ("get", API_RELEASE_MAKERS),
    "api_release_card": ("get", API_RELEASE_MAKERS),
    "api_release_retry": ("post", {**API_RELEASE_MAKERS, "admin": 409}),  # a built release is immutable
    # Imports and the vocabulary: curators and admins; a non-member clinician does not learn the project exists.
    "import_list": ("get", CURATORS_ONLY),
    "import_detail": ("get", CURATORS_ONLY),
    "vocabulary": ("get", CURATORS_ONLY),
    "vocabulary_map": ("post", {**CURATORS_ONLY, "curator": 302, "admin": 302}),
    "vocabulary_merge": ("post", {**CURATORS_ONLY, "curator": 302, "admin": 302}),
    "api_import_list": ("get", API_CURATORS_ONLY),
    "api_import_detail": ("get", API_CURATORS_ONLY),
    # The matrix's job is not waiting for confirmation: a curator is let in and told so (400).
    "api_import_confirm": ("post", {**API_CURATORS_ONLY, "curator": 400, "admin": 400}),
    # The review workspace: the queue is per member; an assignment is its reviewer's alone (404 to anyone else).
    "review_queue": ("get", MEMBERS_ONLY),
    "review_next": ("post", {**MEMBERS_ONLY, "clinician": 302, "curator": 302, "admin": 302}),
    "review_item": ("get", OWN_ASSIGNMENT),
    "review_draft": ("post", OWN_ASSIGNMENT),
    "review_task_edit": ("get", OWN_ASSIGNMENT),
    "review_flag": ("post", {**OWN_ASSIGNMENT, "clinician": 302}),
    "review_skip": ("post", {**OWN_ASSIGNMENT, "clinician": 302}),
    "attention_list": ("get", CURATORS_ONLY),
    "flag_clear": ("post", {**CURATORS_ONLY, "curator": 302, "admin": 302}),
    "phi_queue": ("get", CURATORS_ONLY),
    **{name: ("post", {**CURATORS_ONLY, "curator": 302, "admin": 302}) for name in PHI_ACTIONS},
    "assign": ("get", CURATORS_ONLY),
    # The world's clinician has an item to do; curators are not members, so nothing to claim (204).
    "api_review_next": ("post", {**API_MEMBERS_ONLY, "curator": 204, "admin": 204}),
    "api_review_submit": ("post", {**API_MEMBERS_ONLY, "clinician": 400, "curator": 400, "admin": 400}),
    "api_my_reviews": ("get", API_MEMBERS_ONLY),
    "api_schema": ("get", API_SIGNED_IN),
    "api_docs": ("get", API_SIGNED_IN),
    # Adjudication and dataset decisions: curators and admins only (reviews are blind to clinicians).
    "adjudication_queue": ("get", CURATORS_ONLY),
    "adjudication_queue_recompute": ("post", {**CURATORS_ONLY, "curator": 302, "admin": 302}),
    "adjudication_settings": ("get", CURATORS_ONLY),
    "adjudicate_task": ("get", CURATORS_ONLY),
    "adjudicate_response": ("get", CURATORS_ONLY),
    "task_decide": ("post", {**CURATORS_ONLY, "curator": 302, "admin": 302}),
    "bulk_decide": ("get", CURATORS_ONLY),
    "api_disagreement_list": ("get", API_CURATORS_ONLY),
    "api_agreement": ("get", API_CURATORS_ONLY),
    # An empty batch is refused (400) once past the gate: curators and admins only.
    "api_assignment_create": ("post", {**API_CURATORS_ONLY, "curator": 400, "admin": 400}),
    "api_adjudicate": ("post", {**API_CURATORS_ONLY, "curator": 400, "admin": 400}),  # an empty body
    # Evaluation rounds: a clinician sees the rounds they review; setup and results (model names) are curators'.
    "round_list": ("get", MEMBERS_ONLY),
    "round_create": ("get", CURATORS_ONLY),
    "round_detail": ("get", MEMBERS_ONLY),
    "round_freeze": ("post", {**CURATORS_ONLY, "curator": 302, "admin": 302}),  # already frozen: a message
    "round_close": ("post", {**CURATORS_ONLY, "curator": 302, "admin": 302}),
    "round_judge": ("get", MEMBERS_ONLY),  # curators who do not review it are told there is nothing for them
    "round_results": ("get", CURATORS_ONLY),
    "round_results_csv": ("get", CURATORS_ONLY),
    "round_votes_csv": ("get", CURATORS_ONLY),
    # An empty body: the curators' 400 says the definition is missing, after the gate let them in.
    "api_round_create": ("post", {**API_CURATORS_ONLY, "curator": 400, "admin": 400}),
    "api_round_next": ("get", API_MEMBERS_ONLY),
    "api_round_judgment": ("post", {**API_MEMBERS_ONLY, "clinician": 400, "curator": 400, "admin": 400}),
    "api_round_results": ("get", API_CURATORS_ONLY),
    # Rubrics: members grade blind; judges' verdicts and results (which name the models) are curators'.
    "api_rubric_grade": ("get", API_MEMBERS_ONLY),
    "rubric_list": ("get", MEMBERS_ONLY),
    "rubric_editor": ("get", MEMBERS_ONLY),
    "rubric_review": ("get", MEMBERS_ONLY),
    "rubric_accept": ("post", {**MEMBERS_ONLY, "clinician": 302, "curator": 302, "admin": 302}),  # refused: a message
    "rubric_grade_next": ("get", {**MEMBERS_ONLY, "clinician": 302, "curator": 302, "admin": 302}),
    "rubric_grade": ("get", MEMBERS_ONLY),
    "rubric_results": ("get", CURATORS_ONLY),
    "rubric_upload": ("get", CURATORS_ONLY),
    "rubric_settings": ("get", CURATORS_ONLY),
    # A judge's panel puts it beside the clinicians' own grades: curators and admins only.
    "api_judge_panel": ("get", API_CURATORS_ONLY),
    "api_judge_verdicts": ("post", {**API_CURATORS_ONLY, "curator": 400, "admin": 400}),  # an empty body
}
THIRD_PARTY_MODULES = ("django.contrib.admin", "allauth")


def _project_routes():
    """(name, pattern) for every route whose view is the project's own."""

    def walk(patterns, prefix=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace == "admin":
                    continue
                yield from walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                module = getattr(entry.callback, "__module__", "")
                if not module.startswith(THIRD_PARTY_MODULES):
                    yield entry.name, prefix + str(entry.pattern)

    return list(walk(get_resolver().url_patterns))


def test_every_route_has_an_access_rule():
    routes = _project_routes()
    unnamed = [pattern for name, pattern in routes if not name]
    assert not unnamed, f"routes without a name cannot have a rule: {unnamed}"
    missing = sorted({name for name, _ in routes} - set(RULES))
    assert not missing, f"add an access rule for: {missing}"
    stale = sorted(set(RULES) - {name for name, _ in routes})
    assert not stale, f"rules for routes that no longer exist: {stale}"


@pytest.fixture
def release(project, admin_user, settings, tmp_path):
    from curation.services.releases import release_build, release_create

    settings.MEDIA_ROOT = tmp_path / "media"
    SeedTaskFactory(project=project, status="accepted")  # a release of no row is refused
    release = release_create(project=project, created_by=admin_user, format="alpaca", enqueue=False)
    return release_build(release_id=release.pk)


@pytest.fixture
def world(project, clinician, outsider, curator, admin_user, release):
    task = SeedTaskFactory(project=project)
    invitation = Invitation.objects.create(email="someone@example.org", invited_by=admin_user)
    users = {"clinician": clinician, "outsider": outsider, "curator": curator, "admin": admin_user}
    import_job = ImportJob.objects.create(project=project, file_name="seed.json", created_by=curator)
    assignment = AssignmentFactory(seed_task=task, reviewer=clinician)
    flag = ItemFlag.objects.create(project=project, seed_task=task, kind="unsafe", raised_by=clinician)
    finding = PhiFinding.objects.create(
        project=project, seed_task=task, item_task=task, field="instruction", kind="DATE", start=0, end=4, score=0.9
    )  # its span matches no text: a curator's redaction is refused and the finding stays for the next persona
    evaluation_round = frozen_round(project, curator, clinician)
    # What workers compute (the disagreement queue, the round's results) is there, as after a first visit.
    disagreements_refresh(project=project)
    round_results_refresh(evaluation_round=evaluation_round)
    kwargs = {
        "task_list": {"slug": project.slug},
        "project_guidelines": {"slug": project.slug},
        "task_detail": {"slug": project.slug, "task_id": task.pk},
        "task_edit": {"slug": project.slug, "task_id": task.pk},
        "project_agreement": {"slug": project.slug},
        "project_agreement_recompute": {"slug": project.slug},
        "invitation_revoke": {"invitation_id": invitation.pk},
        "person_role": {"user_id": clinician.pk},
        "member_list": {"slug": project.slug},
        "member_remove": {"slug": project.slug, "user_id": clinician.pk},
        **{name: {"slug": project.slug} for name in ("project_settings", "project_archive", "project_unarchive")},
        **{name: {"slug": project.slug, "target": "seed"} for name in ("rating_form_edit", "rating_form_preview")},
        "person_deactivate": {"user_id": clinician.pk},
        "person_releases": {"user_id": clinician.pk},
        "api_token_revoke": {"token_id": api_token_create(user=admin_user, name="admin's")[0].pk},
        "invitation_accept": {"token": invitation.token},
        "api_project_detail": {"slug": project.slug},
        "api_task_list": {"slug": project.slug},
        "api_task_detail": {"slug": project.slug, "task_id": task.pk},
        **{
            name: {"slug": project.slug, "assignment_id": assignment.pk}
            for name in ("review_item", "review_draft", "review_task_edit", "review_flag", "review_skip")
        },
        **{name: {"slug": project.slug} for name in ("review_queue", "review_next", "attention_list", "assign")},
        **{name: {"slug": project.slug} for name in ("api_review_next", "api_review_submit", "api_my_reviews")},
        "flag_clear": {"slug": project.slug, "flag_id": flag.pk},
        **{name: {"slug": project.slug, "finding_id": finding.pk} for name in PHI_ACTIONS[1:]},
        **{name: {"slug": project.slug} for name in ("phi_queue", "phi_scan_start")},
        **{
            name: {"slug": project.slug, "release_id": release.pk}
            for name in (
                *("release_detail", "release_download", "release_card", "release_retry"),
                *("api_release_detail", "api_release_download", "api_release_card", "api_release_retry"),
            )
        },
        "release_list": {"slug": project.slug},
        "release_preview": {"slug": project.slug},
        **{name: {"slug": project.slug} for name in ("import_list", "vocabulary", "vocabulary_map")},
        "vocabulary_merge": {"slug": project.slug},
        "api_import_list": {"slug": project.slug},
        "api_assignment_create": {"slug": project.slug},
        "import_detail": {"slug": project.slug, "job_id": import_job.pk},
        "api_import_detail": {"slug": project.slug, "job_id": import_job.pk},
        "api_import_confirm": {"slug": project.slug, "job_id": import_job.pk},
        "api_release_list": {"slug": project.slug},
        **{
            name: {"slug": project.slug}
            for name in (
                "adjudication_queue",
                "adjudication_queue_recompute",
                "adjudication_settings",
                "bulk_decide",
                "api_disagreement_list",
                "api_agreement",
                "api_adjudicate",
            )
        },
        **{name: {"slug": project.slug, "task_id": task.pk} for name in ("adjudicate_task", "task_decide")},
        "adjudicate_response": {"slug": project.slug, "response_id": ModelResponseFactory(seed_task=task).pk},
        **{name: {"slug": project.slug} for name in ("round_list", "round_create", "api_round_create")},
        **rubric_kwargs(project, clinician, curator),
        **{
            name: {"slug": project.slug, "round_id": evaluation_round.pk}
            for name in (
                *(
                    "round_detail",
                    "round_freeze",
                    "round_close",
                    "round_judge",
                    "round_results",
                    "round_results_csv",
                    "round_votes_csv",
                ),
                *("api_round_next", "api_round_judgment", "api_round_results"),
            )
        },
    }
    return users, kwargs


def rubric_kwargs(project, clinician, curator):
    """An accepted rubric with one response to grade; the route arguments of every rubric route."""
    from curation.models.rubrics import Judge
    from curation.services.rubrics import CriterionInput, rubric_accept, rubric_create, rubric_submit
    from tests.factories import PromptFactory

    prompt = PromptFactory(project=project)
    rubric = rubric_create(
        prompt=prompt, author=clinician, criteria=[CriterionInput(text="Is correct", points=5, axis="accuracy")]
    )
    rubric_submit(rubric_id=rubric.pk, author=clinician)
    rubric_accept(rubric_id=rubric.pk, reviewer=curator)
    response = ModelResponseFactory(prompt=prompt, seed_task=None, model_name="model-one")
    slug = project.slug
    return {
        "api_rubric_grade": {"slug": slug, "response_id": response.pk},
        "rubric_grade": {"slug": slug, "response_id": response.pk},
        "rubric_editor": {"slug": slug, "prompt_id": prompt.pk},
        **{name: {"slug": slug, "rubric_id": rubric.pk} for name in ("rubric_review", "rubric_accept")},
        **{name: {"slug": slug} for name in ("rubric_list", "rubric_grade_next", "rubric_results")},
        "api_judge_verdicts": {"slug": slug},
        **{name: {"slug": slug} for name in ("rubric_upload", "rubric_settings")},
        "api_judge_panel": {"slug": slug, "judge_id": Judge.objects.create(project=project, name="judge-one").pk},
    }


def frozen_round(project, curator, clinician):
    """A frozen pairwise round over one prompt with the world's clinician as its only reviewer."""
    from curation.services.round_schedules import round_freeze
    from curation.services.rounds import round_create
    from tests.factories import PromptFactory

    prompt = PromptFactory(project=project, input="")
    for model in ("model-one", "model-two"):
        ModelResponseFactory(prompt=prompt, seed_task=None, model_name=model)
    evaluation_round = round_create(
        project=project,
        created_by=curator,
        name="Access round",
        mode="pairwise",
        models=["model-one", "model-two"],
        reviewers=[clinician],
        judgments_per_item=1,
    )
    return round_freeze(evaluation_round=evaluation_round)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", sorted(RULES))
def test_access_rule(client, world, name, persona):
    users, kwargs = world
    method, expected_by_persona = RULES[name]
    if persona != "anonymous":
        client.force_login(users[persona])
    # An empty JSON object: the API's nested-body endpoints read JSON only and refuse a form with a 415.
    body = {"content_type": "application/json"} if name.startswith("api_") and method == "post" else {}
    response = getattr(client, method)(reverse(name, kwargs=kwargs.get(name)), **body)
    expected = expected_by_persona[persona]
    if expected == LOGIN:
        assert response.status_code == 302, response
        assert response["Location"].startswith(reverse("account_login"))
    else:
        assert response.status_code == expected, f"{name} as {persona}: {response.status_code}"


@pytest.mark.parametrize(("persona", "expected"), [("clinician", 302), ("curator", 302), ("admin", 200)])
def test_django_admin_is_for_admins_only(client, world, persona, expected):
    users, _ = world
    client.force_login(users[persona])
    assert client.get(reverse("admin:index")).status_code == expected


def test_api_token_authenticates_and_a_wrong_token_does_not(client, clinician):
    _, key = api_token_create(user=clinician, name="script")
    ok = client.get(reverse("api_me"), headers={"Authorization": f"Token {key}"})
    assert ok.status_code == 200 and ok.json()["email"] == clinician.email
    bad = client.get(reverse("api_me"), headers={"Authorization": "Token not-a-real-token"})
    assert bad.status_code == 401
