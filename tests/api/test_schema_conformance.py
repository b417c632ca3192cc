"""The API answers as its OpenAPI schema says: every operation, as a clinician, a curator and an admin.

Schemathesis generates requests from the schema `manage.py spectacular` publishes, valid ones and
invalid ones, and sends them over HTTP to the live server holding a small world (a project with
tasks, a built release, a frozen round, an import job, an assignment). Every check it has is on:
no server error, status codes, content types, headers and bodies as documented, invalid data
refused and valid data accepted. The ids in paths name that world's objects, so requests reach the
views' work rather than stopping at a 404. Examples are derandomized: a run sends the same requests
every time, and a failure names the operation, the role and the request as curl.
"""

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from accounts.models import TokenScope
from accounts.services import api_token_create
from curation.models import ImportJob, TaskStatus
from tests.factories import AssignmentFactory, SeedTaskFactory
from tests.test_access_matrix import frozen_round

EXAMPLES_PER_MODE = 4  # per operation, role and mode (valid, invalid): some 650 generated requests, 2-3 minutes

ROLES = ("clinician", "curator", "admin")


# Refusals the schema cannot express, because they depend on the data: each is a 400 naming the field.
INTENDED_REJECTIONS = [
    {
        "path": "/api/v1/projects/{slug}/tasks/",
        "method": "GET",
        "reason": "a topic, view or type filter naming a vocabulary term that does not exist (as the task list page)",
    },
    {
        "path": "/api/v1/projects/{slug}/releases/",
        "method": "POST",
        "reason": "filters naming topics, views or types the project's tasks do not use, rounds it does not have,"
        " a filter set for a format it does not apply to, or a definition that selects no row",
    },
    {
        "path": "/api/v1/projects/{slug}/assignments/",
        "method": "POST",
        "reason": "reviewers named by an email that is not a reviewing member of the project",
    },
    {
        "path": "/api/v1/projects/{slug}/rounds/",
        "method": "POST",
        "reason": "a round naming models without responses, reviewers who are not members, prompts the project does"
        " not have or (rubric grading) without an accepted rubric, or a name another round has",
    },
    {
        "path": "/api/v1/projects/{slug}/judge-verdicts/",
        "method": "POST",
        "reason": "verdicts naming prompts, responses, models or criteria the project does not have, or none at all",
    },
    {
        "path": "/api/v1/projects/{slug}/imports/{job_id}/confirm/",
        "method": "POST",
        "reason": "only a job waiting as a preview can be confirmed",
    },
]


def _api_schema(*, refusals_allowed: bool):
    """The schema as drf-spectacular publishes it; with `refusals_allowed`, a valid request may also be a 400."""
    raw = SchemaGenerator().get_schema(request=None, public=True)
    checks = {"positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404", "409"]}}
    config = schemathesis.Config.from_dict({"checks": checks} if refusals_allowed else {})
    return schemathesis.openapi.from_dict(raw, config=config)


def _operations() -> list:
    intended = {(rejection["method"], rejection["path"]) for rejection in INTENDED_REJECTIONS}
    strict = _api_schema(refusals_allowed=False)
    lenient = _api_schema(refusals_allowed=True)
    return [
        (lenient if (operation.method.upper(), operation.path) in intended else strict)[operation.path][
            operation.method
        ]
        for operation in (result.ok() for result in strict.get_all_operations())
    ]


OPERATIONS = _operations()


@pytest.fixture
def world(project, clinician, curator, admin_user, settings, tmp_path):
    """The objects the paths name, and a read-and-write token for each role."""
    from curation.services.releases import release_build, release_create

    settings.MEDIA_ROOT = tmp_path / "media"
    task = SeedTaskFactory(project=project, status=TaskStatus.ACCEPTED)
    SeedTaskFactory.create_batch(3, project=project)
    release = release_create(project=project, created_by=admin_user, format="alpaca", enqueue=False)
    release_build(release_id=release.pk)
    evaluation_round = frozen_round(project, curator, clinician)
    job = ImportJob.objects.create(project=project, file_name="seed.json", created_by=curator)
    AssignmentFactory(seed_task=task, reviewer=clinician)
    users = {"clinician": clinician, "curator": curator, "admin": admin_user}
    tokens = {
        role: api_token_create(user=user, name=f"{role}'s", scope=TokenScope.READ_WRITE)[1]
        for role, user in users.items()
    }
    path = {
        "slug": project.slug,
        "task_id": task.pk,
        "release_id": release.pk,
        "round_id": evaluation_round.pk,
        "job_id": job.pk,
    }
    return tokens, path


def _fixed_path(operation, path: dict) -> dict:
    return {name: value for name, value in path.items() if f"{{{name}}}" in operation.path}


def _modes(operation, path: dict) -> list[GenerationMode]:
    """Valid requests always; invalid ones where something is left to make invalid (a body, a query, a path id)."""
    raw = operation.definition.raw
    variable = [
        p for p in raw.get("parameters", []) if p["in"] != "path" or p["name"] not in _fixed_path(operation, path)
    ]
    negatable = bool(variable) or "requestBody" in raw
    return [GenerationMode.POSITIVE, GenerationMode.NEGATIVE] if negatable else [GenerationMode.POSITIVE]


def _check(operation, *, mode: GenerationMode, base_url: str, token: str, path: dict) -> None:
    fixed = _fixed_path(operation, path)

    @settings(
        max_examples=EXAMPLES_PER_MODE,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=fixed or None))
    def run(case):
        case.call_and_validate(base_url=base_url, headers={"Authorization": f"Token {token}"})

    run()


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_every_operation_answers_as_its_schema_says(operation, world, live_server):
    tokens, path = world
    for role in ROLES:
        for mode in _modes(operation, path):
            _check(operation, mode=mode, base_url=live_server.url, token=tokens[role], path=path)
