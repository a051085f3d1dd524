# One image for JobPing: the code location (gRPC code server, the default command) and, with
# another command, the daemon, the webserver and the API (`jobping serve api`, port 8000). Every process starts through `jobping serve`,
# which checks its settings and then execs the Dagster command (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DAGSTER_HOME=/opt/dagster/home \
    JOBPING_HOME=/opt/dagster/jobping \
    JOBPING_MIGRATIONS_DIR=/opt/jobping/sql

WORKDIR /opt/jobping

# Dependencies in their own layer: it changes only when setup.py or the pins change.
COPY setup.py pyproject.toml constraints.txt ./
RUN mkdir jobping_dagster && touch jobping_dagster/__init__.py \
    && pip install --no-cache-dir -c constraints.txt . \
    && pip uninstall -y jobping_dagster

COPY jobping_dagster ./jobping_dagster
COPY sql ./sql
COPY deploy ./deploy
# The production instance in DAGSTER_HOME; on ECS, point DAGSTER_HOME at /opt/dagster/ecs.
RUN pip install --no-cache-dir --no-deps . \
    && useradd --create-home --uid 10001 jobping \
    && mkdir -p "$DAGSTER_HOME" /opt/dagster/ecs "$JOBPING_HOME" \
    && cp deploy/dagster.yaml "$DAGSTER_HOME/dagster.yaml" \
    && cp deploy/ecs/dagster.yaml /opt/dagster/ecs/dagster.yaml \
    && chown -R jobping /opt/dagster

USER jobping
EXPOSE 4000 3000 8000
CMD ["jobping", "serve", "code-server", "--host", "0.0.0.0", "--port", "4000"]
