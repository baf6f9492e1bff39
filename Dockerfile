# matcher: therapist matching service. Serves on 0.0.0.0:8000; data in /data (SQLite by
# default; set MATCHER_DATABASE_URL=postgresql+psycopg://... for PostgreSQL).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MATCHER_INSTANCE_PATH=/data

WORKDIR /app

RUN groupadd --system --gid 10001 matcher \
    && useradd --system --uid 10001 --gid matcher --home-dir /app --shell /usr/sbin/nologin matcher \
    && mkdir -p /data \
    && chown matcher:matcher /data

# Pinned dependencies first, so that a code change does not reinstall them.
COPY requirements.lock ./
RUN pip install --no-compile --requirement requirements.lock

COPY pyproject.toml README.md ./
COPY matcher ./matcher
COPY profiles ./profiles
COPY models ./models
RUN pip install --no-compile --no-deps .

USER 10001:10001
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]

CMD ["matcher", "serve", "--host", "0.0.0.0", "--port", "8000"]
