"""Celery tasks: thin wrappers that take ids and call a service."""

from celery import shared_task

from curation.services.vocabulary import seed_tasks_relink_vocabulary


@shared_task
def relink_vocabulary_task(project_id: int) -> int:
    return seed_tasks_relink_vocabulary(project_id=project_id)
