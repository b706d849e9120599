# Channel Manager: one image for web (gunicorn), worker and beat; docker-compose.yml picks the command.
FROM python:3.11-slim

# PYTHONPATH: the `celery` and `gunicorn` scripts import the project from /app whatever their cwd.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first (cached while only code changes): every package from the production lock, each
# checked against its hash; no dev or local extras (no embedded Redis, no test tools).
COPY requirements/production.txt requirements/production.txt
RUN pip install --require-hashes -r requirements/production.txt

# The code (.dockerignore keeps tests/, bench/ and local files out), then the project's own metadata
# without resolving anything again.
COPY . .
RUN pip install --no-deps --no-build-isolation .

# Static files are collected into the image and served by whitenoise. The settings need every secret
# to load, so collectstatic gets throwaway values that exist only in this build step.
RUN DJANGO_SETTINGS_MODULE=channel_manager.settings.production \
    DJANGO_SECRET_KEY=collectstatic-only-not-a-real-secret \
    FIELD_ENCRYPTION_KEYS=MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA= \
    DATABASE_URL=sqlite:////tmp/collectstatic.sqlite3 \
    REDIS_URL=redis://localhost:6379/0 \
    DJANGO_ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --no-input --verbosity 0

RUN useradd --system --create-home --uid 10001 app \
    && mkdir -p /app/var/media \
    && chown -R app:app /app/var
USER app

ENV DJANGO_SETTINGS_MODULE=channel_manager.settings.production
EXPOSE 8000
CMD ["gunicorn", "channel_manager.wsgi:application", "--bind=0.0.0.0:8000", "--workers=3", "--access-logfile=-"]
