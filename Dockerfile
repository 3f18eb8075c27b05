# The one image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends curl gettext \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 portal

WORKDIR /app
# The runtime only: test and development tools (requirements-dev.txt) stay out of the image.
COPY requirements.txt .
RUN pip install --no-cache-dir --no-deps -r requirements.txt && pip check

COPY . .
# collectstatic needs settings that import cleanly; nothing here reaches a database or Redis.
RUN SECRET_KEY=build-only ALLOWED_HOSTS=build DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    REDIS_URL=redis://build-only:6379/0 \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/media \
    && chown -R portal /app

USER portal
EXPOSE 8000
# Workers, threads, timeouts and an access log without client addresses: gunicorn.conf.py.
ENV GUNICORN_BIND=0.0.0.0:8000
CMD ["gunicorn", "-c", "gunicorn.conf.py", "portal.wsgi"]
