# One image for the JobPing code location (the gRPC code server); the daemon and webserver
# can run from it too.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DAGSTER_HOME=/opt/dagster/home \
    JOBPING_MIGRATIONS_DIR=/opt/jobping/sql

WORKDIR /opt/jobping

# Dependencies in their own layer: it changes only when setup.py or the pins change.
COPY setup.py pyproject.toml constraints.txt ./
RUN mkdir jobping_dagster && touch jobping_dagster/__init__.py \
    && pip install --no-cache-dir -c constraints.txt . \
    && pip uninstall -y jobping_dagster

COPY jobping_dagster ./jobping_dagster
COPY sql ./sql
COPY workspace.yaml dagster.yaml ./
RUN pip install --no-cache-dir --no-deps . \
    && useradd --create-home --uid 10001 jobping \
    && mkdir -p "$DAGSTER_HOME" && cp dagster.yaml "$DAGSTER_HOME/" \
    && chown -R jobping "$DAGSTER_HOME"

USER jobping
EXPOSE 4000
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "jobping_dagster.definitions"]
