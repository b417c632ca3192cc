import uuid

import pytest

from curation.jobs import relink_vocabulary_task
from curation.models import SeedTask
from curation.services.seed_tasks import seed_task_create
from curation.services.vocabulary import vocabulary_alias_add, vocabulary_term_get_or_create
from tests.factories import ProjectFactory
from tests.markers import needs_worker
from tests.worker import running_worker, wait_until, worker_available

pytestmark = [
    pytest.mark.worker,
    needs_worker,
]


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_relinks_vocabulary_after_an_alias_is_added():
    assert worker_available(), "CI must provide PostgreSQL and a broker for the worker tests"
    project = ProjectFactory()
    task = seed_task_create(project=project, instruction="Explain a lateral chest film.", view="x-ray Technician")
    radiographer = vocabulary_term_get_or_create(kind="view", name="Radiographer")
    vocabulary_alias_add(term=radiographer, raw="x-ray Technician")

    with running_worker(queue=f"test-{uuid.uuid4().hex[:8]}") as worker:
        relink_vocabulary_task.delay(project.pk)
        linked = wait_until(lambda: SeedTask.objects.get(pk=task.pk).view_id == radiographer.pk)
        assert worker.poll() is None, "the worker exited early"
    assert linked, "the worker did not run the task within a minute"
