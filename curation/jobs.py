"""Background jobs (Celery tasks): thin wrappers that take ids and call a service."""

from celery import shared_task
from celery.signals import worker_ready

# Creates the Celery app configured from Django's settings before any task is defined or sent: the config
# package does not import it (processes that queue no job start without Celery), and without it a task
# sent here would go to Celery's unconfigured default app.
import config.celery  # noqa: F401


@shared_task(acks_late=True, reject_on_worker_lost=True)
def release_build_task(release_id: int) -> str:
    """Build a release. The message is acknowledged only after the build, so a worker killed mid-build
    has it redelivered; the redelivered run takes the release over only once the dead build's lease has
    expired, and leaves alone a release another worker is still building (services.release_attempts)."""
    from curation.services.release_builds import release_build

    return release_build(release_id=release_id).status


@shared_task
def import_run_task(job_id: int) -> str:
    """Run an uploaded import; a job already started or finished is left as it is (redelivery is harmless).
    A job whose worker died is found by its stale heartbeat and queued again (services.imports.recovery)."""
    from curation.services.imports import import_job_run

    return import_job_run(job_id=job_id).status


@worker_ready.connect
def imports_recover_at_worker_start(**kwargs) -> None:
    """A worker starting may be the one that replaces a worker killed mid-import: pick up what it left."""
    from curation.services.imports import import_jobs_recover_stale

    import_jobs_recover_stale()


@shared_task
def releases_recover_task() -> list[int]:
    """Start again the releases whose build stopped; the ids of those queued again."""
    from curation.services.release_attempts import releases_recover_stale

    return releases_recover_stale()


@worker_ready.connect
def releases_recover_at_worker_start(**kwargs) -> None:
    """A worker starting may be the one that replaces a worker killed mid-build: start its release again,
    now if the dead build's lease has run out, or by a second look once it will have."""
    from curation.services.release_attempts import releases_recheck_at, releases_recover_stale

    releases_recover_stale()
    recheck = releases_recheck_at()
    if recheck is not None:
        releases_recover_task.apply_async(eta=recheck)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def computation_run_task(computation_id: int) -> str | None:
    """Compute what reads a whole project (agreement, disagreements, round results) and publish it; a
    computation already running elsewhere or not queued is left as it is (redelivery is harmless)."""
    from curation.services.computations import computation_run

    computation = computation_run(computation_id=computation_id)
    return computation.status if computation is not None else None


@shared_task
def overlap_sweep_task(project_id: int) -> int:
    """Send every item of a project already in dispute to one more reviewer (dynamic overlap turned on)."""
    from curation.models import Project
    from curation.services.dynamic_overlap import overlap_sweep

    return len(overlap_sweep(project=Project.objects.get(pk=project_id)))


@shared_task
def phi_scan_task(run_id: int) -> str:
    """Scan the texts of a PHI scan run (an import's, or a project's unscanned); a run already started is left."""
    from curation.services.phi import phi_scan_run_execute

    return phi_scan_run_execute(run_id=run_id).status


@shared_task
def seed_task_search_task(import_job_id: int) -> int:
    """Build the search documents of the seed tasks an import wrote; a redelivered message builds nothing
    twice (only missing or stale documents are built)."""
    from curation.services.seed_task_search import seed_task_search_import_index

    return seed_task_search_import_index(import_job_id=import_job_id)
