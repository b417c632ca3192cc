FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=config.settings.production
WORKDIR /app
COPY requirements.lock .
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY . .
RUN SECRET_KEY=collectstatic DATABASE_URL=postgres://build/none CELERY_BROKER_URL=redis://build:6379/0 \
    python manage.py collectstatic --noinput
# The image runs with PYTHONDONTWRITEBYTECODE, so the project's bytecode is compiled here, once: otherwise every
# gunicorn, worker and manage.py start compiles each of its modules again.
RUN python -m compileall -q accounts audit config curation manage.py
RUN useradd --create-home concord && mkdir -p /app/var/media && chown -R concord /app/var
USER concord
EXPOSE 8000
CMD ["gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application"]
