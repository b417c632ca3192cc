import factory
from factory.django import DjangoModelFactory

from accounts.models import Role, User
from curation.models import (
    Membership,
    ModelResponse,
    Project,
    Prompt,
    RatingSchema,
    SchemaTarget,
    SeedTask,
    TaskStatus,
)
from curation.schemas.defaults import RESPONSE_REVIEW, SEED_REVIEW
from curation.services.assignments import assignment_counts_add
from curation.services.phi import phi_item_scan
from curation.services.seed_task_search import seed_task_search_upsert
from curation.services.seed_tasks import seed_tasks_counted
from curation.services.vocabulary import vocabulary_uses_of
from curation.text.hashing import content_hash


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    name = factory.Faker("name")
    role = Role.CLINICIAN
    password = factory.PostGenerationMethodCall("set_password", "a-long-test-password")

    @factory.post_generation
    def save_password(self, create, extracted, **kwargs):
        if create:
            self.save(update_fields=["password"])


class ClinicianFactory(UserFactory):
    role = Role.CLINICIAN
    specialty = "cardiology"
    credentials = "MD, cardiology"


class CuratorFactory(UserFactory):
    role = Role.CURATOR


class AdminFactory(UserFactory):
    role = Role.ADMIN
    is_staff = True
    is_superuser = True


class ProjectFactory(DjangoModelFactory):
    class Meta:
        model = Project
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Project {n}")
    slug = factory.Sequence(lambda n: f"project-{n}")
    guidelines = "# Guidelines\n\nJudge **clinical validity** first."

    @factory.post_generation
    def schemas(self, create, extracted, **kwargs):
        if not create:
            return
        self.seed_schema = RatingSchema.objects.create(
            project=self, name="Seed review", target=SchemaTarget.SEED_TASK, definition=SEED_REVIEW
        )
        self.response_schema = RatingSchema.objects.create(
            project=self, name="Response review", target=SchemaTarget.RESPONSE, definition=RESPONSE_REVIEW
        )
        self.save(update_fields=["seed_schema", "response_schema"])


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(ClinicianFactory)


class PhiScannedFactory(DjangoModelFactory):
    """Items made here are scanned for PHI, as every path that writes them in the app scans them."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        item = super()._create(model_class, *args, **kwargs)
        phi_item_scan(owner=item)
        return item


class SeedTaskFactory(PhiScannedFactory):
    class Meta:
        model = SeedTask

    project = factory.SubFactory(ProjectFactory)
    instruction = factory.Sequence(lambda n: f"Explain the first-line treatment of condition number {n}.")
    input = ""
    reference_output = "Start with lifestyle measures, then medication as indicated."
    topic_raw = "Cardiology"
    view_raw = "Patient"
    task_type_raw = "Open Q&A"
    difficulty = 3
    content_hash = factory.LazyAttribute(lambda o: content_hash(o.instruction, o.input, o.reference_output))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # A task made accepted was accepted as it is, as seed_task_create records it.
        if kwargs.get("status") == TaskStatus.ACCEPTED:
            kwargs.setdefault("accepted_version", kwargs.get("version", 1))
        task = super()._create(model_class, *args, **kwargs)
        # Counted in the project's counts, as every service that writes a task counts it, and found by
        # search, as a task is once created or once the job after its import has run.
        seed_tasks_counted(project_id=task.project_id, tasks=1, uses=vocabulary_uses_of([task]))
        seed_task_search_upsert(task_id=task.pk)
        return task


class PromptFactory(PhiScannedFactory):
    class Meta:
        model = Prompt

    project = factory.SubFactory(ProjectFactory)
    external_id = factory.Sequence(lambda n: f"p{n}")
    instruction = factory.Sequence(lambda n: f"Test prompt {n}: what is hypertension?")
    input = ""
    content_hash = factory.LazyAttribute(lambda o: content_hash(o.instruction, o.input))


class ModelResponseFactory(PhiScannedFactory):
    class Meta:
        model = ModelResponse

    seed_task = factory.SubFactory(SeedTaskFactory)
    model_name = "medgen-7b"
    model_version = "0.3"
    text = "Hypertension is persistently raised blood pressure."
    content_hash = factory.LazyAttribute(lambda o: content_hash(o.model_name, o.text))


class AssignmentFactory(DjangoModelFactory):
    """A reviewer's assignment to a seed task (pass `response=...` and `seed_task=None` for a response)."""

    class Meta:
        model = "curation.Assignment"

    seed_task = factory.SubFactory(SeedTaskFactory)
    project = factory.LazyAttribute(lambda o: (o.seed_task or o.response.item).project)
    reviewer = factory.SubFactory(ClinicianFactory)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        assignment = super()._create(model_class, *args, **kwargs)
        # Counted in the reviewer's counts, as every service that writes an assignment counts it.
        assignment_counts_add(project_id=assignment.project_id, deltas={assignment.reviewer_id: {assignment.status: 1}})
        return assignment


def phi_scanned_in_bulk(tasks) -> None:
    """Record seed tasks made with bulk_create as scanned and clean, as the scan after an import would:
    a release leaves out texts nobody scanned."""
    from curation.models import PhiScan
    from curation.phi import SCANNER_VERSION

    PhiScan.objects.bulk_create(
        [
            PhiScan(
                project_id=task.project_id,
                seed_task=task,
                content_hash=task.content_hash,
                scanner_version=SCANNER_VERSION,
            )
            for task in tasks
        ],
        batch_size=5000,
    )
