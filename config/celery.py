import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("concord")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Background jobs live in each app's jobs.py ("tasks" means seed tasks in this codebase).
app.autodiscover_tasks(related_name="jobs")
