# The Celery app (config.celery) is not imported here, so a process that queues no job starts without
# Celery and kombu: curation.jobs imports it, and `celery -A config` finds it in config.celery.
