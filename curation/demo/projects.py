"""The demo project and demo people: development only, so a new install has something to click through."""

import json
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from accounts.models import Role, User
from curation.models import AssignmentStatus, ModelResponse, Project, Prompt, TaskSource, TaskStatus
from curation.services.assignments import assignment_counts_add
from curation.services.members import project_member_add
from curation.services.phi import phi_item_scan
from curation.services.projects import project_create
from curation.services.seed_tasks import seed_task_create
from curation.services.vocabulary import vocabulary_term_get_or_create
from curation.text.hashing import content_hash

DEMO_FILE = settings.BASE_DIR / "fixtures" / "demo.json"
DEMO_USERS = [
    {
        "email": "clinician@concord.test",
        "password": "demo-clinician-pass",
        "role": Role.CLINICIAN,
        "name": "Dr. Ada Clinician",
        "specialty": "internal medicine",
        "credentials": "MD, internal medicine",
    },
    {
        "email": "curator@concord.test",
        "password": "demo-curator-pass",
        "role": Role.CURATOR,
        "name": "Cam Curator",
        "specialty": "",
        "credentials": "RN, clinical informatics",
    },
    {
        "email": "admin@concord.test",
        "password": "demo-admin-pass",
        "role": Role.ADMIN,
        "name": "Avery Admin",
        "specialty": "",
        "credentials": "",
    },
]


def demo_users_create() -> list[tuple[User, str]]:
    """The three demo accounts, with their passwords reset to the documented demo values."""
    users = []
    for spec in DEMO_USERS:
        fields = {k: v for k, v in spec.items() if k not in ("email", "password")}
        user, _ = User.objects.update_or_create(
            email=spec["email"],
            defaults={
                **fields,
                "is_staff": spec["role"] == Role.ADMIN,
                "is_superuser": spec["role"] == Role.ADMIN,
            },
        )
        user.set_password(spec["password"])
        user.save(update_fields=["password"])
        users.append((user, spec["password"]))
    return users


@transaction.atomic
def demo_project_load(*, path: Path = DEMO_FILE, members: list[User]) -> Project:
    """Load the demo project from `path` once; a second call finds it and only refreshes the members."""
    data = json.loads(path.read_text(encoding="utf-8"))
    spec = data["project"]
    project = Project.objects.filter(slug=spec["slug"]).first()
    if project is None:
        curator = next((u for u in members if u.role == Role.CURATOR), None)
        project = project_create(
            name=spec["name"],
            slug=spec["slug"],
            description=spec.get("description", ""),
            guidelines=spec.get("guidelines", ""),
            created_by=curator,
        )
        _load_content(project, data, path.name, curator)
        _phi_scan(project)
    for user in members:
        project_member_add(project=project, user=user)
    clinician = next((u for u in members if u.role == Role.CLINICIAN), None)
    if clinician is not None and not project.assignments.filter(reviewer=clinician).exists():
        first_tasks = list(project.seed_tasks.order_by("id")[:5])
        for task in first_tasks:
            project.assignments.create(reviewer=clinician, seed_task=task, status=AssignmentStatus.PENDING)
        # Responses too, so the queue shows both kinds of review; none answers a task the clinician may edit above.
        to_tasks = ModelResponse.objects.filter(seed_task__project=project).exclude(seed_task__in=first_tasks)
        to_prompts = ModelResponse.objects.filter(prompt__project=project)
        for response in [*to_tasks.order_by("id")[:3], *to_prompts.order_by("id")[:2]]:
            project.assignments.create(reviewer=clinician, response=response, status=AssignmentStatus.PENDING)
        assigned = project.assignments.filter(reviewer=clinician).count()
        assignment_counts_add(project_id=project.pk, deltas={clinician.pk: {AssignmentStatus.PENDING: assigned}})
    return project


def _phi_scan(project: Project) -> None:
    """Scan the demo's texts as an import's background scan would (a few dozen, so at once): unscanned
    texts cannot be released, and the demo's releases should have rows."""
    for owner in [
        *project.seed_tasks.all(),
        *Prompt.objects.filter(project=project),
        *ModelResponse.objects.filter(Q(seed_task__project=project) | Q(prompt__project=project)),
    ]:
        phi_item_scan(owner=owner)


def _load_content(project: Project, data: dict, file_name: str, author: User | None) -> None:
    for record in data["tasks"]:
        if record.get("topic"):
            vocabulary_term_get_or_create(kind="topic", name=record["topic"])
    tasks = {}
    for line, record in enumerate(data["tasks"], start=1):
        tasks[record["ref"]] = seed_task_create(
            project=project,
            instruction=record["instruction"],
            input=record.get("input", ""),
            reference_output=record.get("reference_output", ""),
            topic=record.get("topic", ""),
            view=record.get("view", ""),
            task_type=record.get("type", ""),
            difficulty=record.get("difficulty"),
            source=TaskSource.CLINICIAN,
            status=TaskStatus.IN_REVIEW,
            external_id=record["ref"],
            origin_file=file_name,
            origin_line=line,
            created_by=author,
        )
    models = {m["name"]: m for m in data.get("models", [])}
    prompts = {}
    for line, record in enumerate(data.get("prompts", []), start=1):
        prompts[record["ref"]] = Prompt.objects.create(
            project=project,
            external_id=record["ref"],
            instruction=record["instruction"],
            input=record.get("input", ""),
            difficulty=record.get("difficulty"),
            origin_file=file_name,
            origin_line=line,
            content_hash=content_hash(record["instruction"], record.get("input", "")),
        )
    responses = [(tasks[r["task"]], None, r) for r in data.get("responses", [])] + [
        (None, prompts[r["prompt"]], r) for r in data.get("prompt_responses", [])
    ]
    ModelResponse.objects.bulk_create(
        ModelResponse(
            seed_task=task,
            prompt=prompt,
            model_name=r["model"],
            model_version=models.get(r["model"], {}).get("version", ""),
            generation_params=models.get(r["model"], {}).get("params", {}),
            text=r["text"],
            origin_file=file_name,
            content_hash=content_hash(r["model"], r["text"]),
        )
        for task, prompt, r in responses
    )
