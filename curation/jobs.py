"""Background jobs (Celery tasks): thin wrappers that take ids and call a service."""

from celery import shared_task
from celery.signals import worker_ready


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True)
def release_build_task(self, release_id: int) -> str:
    """Build a release. The message is acknowledged only after the build, so a worker killed mid-build
    has it redelivered; the redelivered run takes over the release its dead predecessor left running."""
    from curation.services.releases import release_build

    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    return release_build(release_id=release_id, resume_running=redelivered).status


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
def project_agreement_task(project_id: int) -> int:
    """Compute and cache a project's agreement report; returns the number of reviews it covers."""
    from curation.services.agreement import project_agreement_refresh

    return project_agreement_refresh(project_id=project_id)["n_reviews"]
