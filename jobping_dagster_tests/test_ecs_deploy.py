"""deploy/ecs/dagster.yaml against moto: the EcsRunLauncher it configures starts one Fargate
task per run, with the daemon task's network settings and the tagged secrets referenced by ARN,
never by value."""

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import boto3
import dagster as dg
import pytest
import yaml
from dagster._core.instance.ref import InstanceRef
from dagster._core.launcher import WorkerStatus
from dagster._core.test_utils import in_process_test_workspace
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._grpc.types import ExecuteRunArgs
from dagster._serdes import deserialize_value, serialize_value
from dagster_aws.ecs import EcsRunLauncher
from moto import mock_aws
from moto.ecs.models import EC2ContainerServiceBackend

from jobping_dagster.settings import API_ONLY_VARIABLES, Settings

ECS_YAML = Path(__file__).resolve().parents[1] / "deploy" / "ecs" / "dagster.yaml"
REGION = "eu-west-1"
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/jobping:test"
EXECUTION_ROLE = "arn:aws:iam::123456789012:role/jobping-run-execution"
LOG_GROUP = "/ecs/jobping/runs"
SECRETS_TAG_KEY = "jobping"

# Stored in moto's Secrets Manager under the tag, and also set in the daemon's environment
# (as in production, where the daemon holds the PostgreSQL password): none may reach ECS.
SECRETS = {
    "OPENAI_API_KEY": "test-openai-key-SECRET-4f1b",
    "DAGSTER_PG_PASSWORD": "test-pg-password-SECRET-90ce",
    "JOBPING_DATABASE_URL": "postgresql+psycopg2://jobping:test-app-SECRET-77d2@db:5432/jobping",
    "JOBPING_SMTP_PASSWORD": "test-smtp-password-SECRET-5e21",
}
# A secret of another application in the same account: not tagged, so not for JobPing runs.
UNTAGGED = ("OTHER_APP_TOKEN", "test-other-app-SECRET-3a60")

# The daemon's non-secret environment. Empty means "use JobPing's default", and must still be
# set: the launcher refuses to pass on a name that is missing.
DAEMON_ENV = {
    "DAGSTER_PG_HOST": "dagster-db.internal",
    "DAGSTER_PG_PORT": "5432",
    "DAGSTER_PG_USER": "dagster",
    "DAGSTER_PG_DB": "dagster",
    "JOBPING_JOB_SOURCE": "jobspy",
    "JOBPING_JOBSPY_SITES": "indeed",
    "JOBPING_SEARCH_TERMS": "data engineer",
    "JOBPING_LOCATION": "",
    "JOBPING_RESULTS_WANTED": "30",
    "JOBPING_HOURS_OLD": "",
    "JOBPING_LLM": "openai",
    "JOBPING_OPENAI_MODEL": "gpt-4o-mini",
    "OPENAI_BASE_URL": "",
    "JOBPING_WEBHOOK_ALLOWED_HOSTS": "",
    "JOBPING_SCRAPE_CRON": "",
    "JOBPING_SCRAPE_START_DATE": "2026-05-01",
    "JOBPING_LLM_CONCURRENCY": "8",
    "JOBPING_SENSOR_INTERVAL_SECONDS": "",
    "JOBPING_PREFILTER_USER_SHARE": "",
    "JOBPING_PREFILTER_MAX_PER_USER": "",
    "JOBPING_PREFILTER_MAX_USERS_PER_POSTING": "",
    "JOBPING_PREFILTER_MIN_RELEVANCE": "",
    "JOBPING_PREFILTER_SHADOW_RATE": "",
    "JOBPING_PAIR_RETENTION_DAYS": "",
    "JOBPING_MAX_ACTIVE_MATCH_RUNS": "",
    "JOBPING_SMTP_HOST": "smtp.example.com",
    "JOBPING_SMTP_PORT": "",
    "JOBPING_SMTP_USERNAME": "jobping",
    "JOBPING_SMTP_TLS": "",
    "JOBPING_SMTP_FROM": "",
    "JOBPING_PUBLIC_URL": "https://jobping.example.com",
    "JOBPING_LLM_PRICES": "",
    "JOBPING_BATCH_API": "",
    "JOBPING_ECS_EXECUTION_ROLE_ARN": EXECUTION_ROLE,
    "JOBPING_ECS_LOG_GROUP": LOG_GROUP,
}

# The AWS actions of the daemon's task role in deploy/ecs/README.md that the launcher calls.
DAEMON_ROLE_ACTIONS = {
    "secretsmanager:ListSecrets",
    "ecs:DescribeTaskDefinition",
    "ecs:RegisterTaskDefinition",
    "ecs:DescribeTasks",
    "ec2:DescribeNetworkInterfaces",
    "ecs:RunTask",
    "ecs:StopTask",
}


def _file_config() -> dict:
    return yaml.safe_load(ECS_YAML.read_text())


def _leaked(*documents) -> list[str]:
    """Names (never values) of the secrets found in the JSON of the documents."""
    blob = json.dumps(documents, default=str)
    values = {**SECRETS, UNTAGGED[0]: UNTAGGED[1]}
    return [name for name, value in values.items() if value in blob]


@pytest.fixture
def aws(monkeypatch, tmp_path):
    """moto for every AWS call, with fake credentials and no local AWS profile."""
    # moto's RunTask adds up container-level memory even on Fargate, where AWS takes the
    # task-level memory the launcher sends (getmoto/moto#7272). Count a container without
    # one as 0 MiB for that sum only; what was sent and stored is untouched.
    moto_sum = EC2ContainerServiceBackend._calculate_task_resource_requirements

    def fargate_sum(task_definition):
        containers = [
            container if "memory" in container else {**container, "memory": 0}
            for container in task_definition.container_definitions
        ]
        return moto_sum(SimpleNamespace(container_definitions=containers))

    monkeypatch.setattr(
        EC2ContainerServiceBackend,
        "_calculate_task_resource_requirements",
        staticmethod(fargate_sum),
    )
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


@pytest.fixture
def daemon_env(monkeypatch, tmp_path):
    for name, value in {**DAEMON_ENV, **SECRETS}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("JOBPING_HOME", str(tmp_path / "jobping"))


@pytest.fixture
def tagged_secrets(aws):
    """Name -> ARN of the secrets JobPing runs should get."""
    sm = boto3.client("secretsmanager")
    tags = [{"Key": SECRETS_TAG_KEY, "Value": "run"}]
    arns = {
        name: sm.create_secret(Name=name, SecretString=value, Tags=tags)["ARN"]
        for name, value in SECRETS.items()
    }
    sm.create_secret(Name=UNTAGGED[0], SecretString=UNTAGGED[1])
    return arns


@pytest.fixture
def metadata_endpoint(monkeypatch):
    """The ECS task metadata endpoint (v4) as the daemon sees it inside its task, on
    127.0.0.1. The test fills in the returned dict with the daemon task."""
    task_metadata = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/v4/task":
                self.send_error(404)
                return
            body = json.dumps(task_metadata).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("ECS_CONTAINER_METADATA_URI_V4", f"http://127.0.0.1:{server.server_port}/v4")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    yield task_metadata
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def daemon_task(aws, metadata_endpoint):
    """The Dagster daemon running as a Fargate task in a private subnet."""
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    # moto's awsvpc task attachment reads the ENI's private DNS name, set only with this on.
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="jobping", Description="jobping", VpcId=vpc)
    ecs = boto3.client("ecs")
    cluster = ecs.create_cluster(clusterName="jobping")["cluster"]["clusterArn"]
    ecs.register_task_definition(
        family="jobping-daemon",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "daemon", "image": IMAGE}],
    )
    network = {"subnets": [subnet], "securityGroups": [group["GroupId"]]}
    task = ecs.run_task(
        cluster=cluster,
        taskDefinition="jobping-daemon",
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {**network, "assignPublicIp": "DISABLED"}},
    )["tasks"][0]
    metadata_endpoint.update({"Cluster": cluster, "TaskARN": task["taskArn"]})
    return {"cluster": cluster, **network}


@pytest.fixture
def instance(aws, daemon_env, tmp_path, monkeypatch):
    """An instance whose run launcher is the file's own section. Only storage is swapped for
    SQLite, since there is no PostgreSQL here."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    config = _file_config()
    config["storage"] = {"sqlite": {"base_dir": str(home / "storage")}}
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        yield instance


@pytest.fixture
def aws_calls(instance):
    """(IAM-style action, request parameters) of every call the run launcher makes, recorded
    from botocore's own events: the calls still go through boto3 to moto."""
    calls = []

    def record(params, model, **kwargs):
        calls.append((f"{model.service_model.endpoint_prefix}:{model.name}", dict(params)))

    launcher = instance.run_launcher
    for client in (launcher.ecs, launcher.ec2.meta.client, launcher.secrets_manager):
        client.meta.events.register("provide-client-params", record)
    return calls


def test_the_file_loads_with_ecs_launcher_and_env_indirection(aws, daemon_env, tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(ECS_YAML.read_text())

    # The real file, storage included: validated and referenced, not connected to.
    ref = InstanceRef.from_dir(str(home))
    launcher = ref.run_launcher_data.rehydrate(as_type=EcsRunLauncher)

    assert isinstance(launcher, EcsRunLauncher)
    assert launcher.secrets_tags == [SECRETS_TAG_KEY]
    assert launcher.use_current_ecs_task_config
    assert launcher.execution_role_arn == EXECUTION_ROLE
    assert launcher.task_definition_dict["log_group"] == LOG_GROUP
    assert launcher.run_resources == _file_config()["run_launcher"]["config"]["run_resources"]

    # The run worker opens this instance from the ref: every env var its storage reads must
    # reach the run task, as a plain env var or a tagged secret.
    storage_env = {
        field["env"]
        for field in _file_config()["storage"]["postgres"]["postgres_db"].values()
        if isinstance(field, dict)
    }
    run_env = set(launcher.env_vars) | set(SECRETS)
    assert storage_env - run_env == set()

    # ...and rebuilds JobPing's definitions from its own environment, which must therefore
    # hold every setting the code server has. JOBPING_HOME only locates the SQLite default;
    # the API's own settings are the API process's.
    read = []

    class Recording(dict):
        def get(self, name, default=None):
            read.append(name)
            return default

    Settings.from_env(Recording())
    assert set(read) - run_env - {"JOBPING_HOME"} - API_ONLY_VARIABLES == set()

    # The ref is what each run's command carries: the password stays an env reference.
    assert _leaked(serialize_value(ref)) == []


# Raised inside Dagster's own snapshot of the schedule while loading the code location.
@pytest.mark.filterwarnings("ignore:Property `ScheduleDefinition.environment_vars`")
def test_launching_a_run_starts_a_fargate_task_with_secrets_by_arn(
    instance, aws_calls, daemon_task, tagged_secrets
):
    root = Path(__file__).resolve().parents[1]
    origin = LoadableTargetOrigin(
        module_name="jobping_dagster.definitions", working_directory=str(root)
    )
    with in_process_test_workspace(instance, origin, container_image=IMAGE) as workspace:
        location = workspace.get_code_location(workspace.code_location_names[0])
        repo_name = next(iter(location.get_repositories()))
        remote_job = location.get_repositories()[repo_name].get_full_job("notify_job")
        run = instance.create_run_for_job(
            location.get_reconstructable_job(repo_name, "notify_job").get_definition(),
            remote_job_origin=remote_job.get_remote_origin(),
            job_code_origin=remote_job.get_python_origin(),
        )
        instance.launch_run(run.run_id, workspace)

    launcher = instance.run_launcher
    ecs = boto3.client("ecs")
    run_tasks = [params for action, params in aws_calls if action == "ecs:RunTask"]
    assert len(run_tasks) == 1
    run_task = run_tasks[0]
    task_definition = ecs.describe_task_definition(taskDefinition=run_task["taskDefinition"])[
        "taskDefinition"
    ]
    run_tags = instance.get_run_by_id(run.run_id).tags
    (task,) = ecs.describe_tasks(
        cluster=daemon_task["cluster"], tasks=[run_tags["ecs/task_arn"]], include=["TAGS"]
    )["tasks"]

    # First, so that no later assertion message can print a secret: no secret value in any
    # request the launcher sent, nor in what ECS stored, nor in the run's tags.
    assert _leaked(aws_calls, task_definition, task, run_tags) == []

    # Same cluster, launch type and network as the daemon's own task.
    assert run_task["cluster"] == daemon_task["cluster"]
    assert run_task["launchType"] == "FARGATE"
    vpc = run_task["networkConfiguration"]["awsvpcConfiguration"]
    assert vpc["subnets"] == daemon_task["subnets"]
    assert vpc["securityGroups"] == daemon_task["securityGroups"]
    assert vpc["assignPublicIp"] == "DISABLED"

    # The container runs this run, and nothing else.
    (container_override,) = run_task["overrides"]["containerOverrides"]
    assert container_override["name"] == launcher.container_name
    command = container_override["command"]
    assert command[:3] == ["dagster", "api", "execute_run"]
    args = deserialize_value(command[3], ExecuteRunArgs)
    assert args.run_id == run.run_id
    assert args.job_origin.job_name == "notify_job"

    # Task size as configured, both in the overrides and in the task definition.
    resources = launcher.run_resources
    assert run_task["overrides"]["cpu"] == resources["cpu"]
    assert run_task["overrides"]["memory"] == resources["memory"]
    assert task_definition["requiresCompatibilities"] == ["FARGATE"]
    assert task_definition["networkMode"] == "awsvpc"
    assert task_definition["cpu"] == resources["cpu"]
    assert task_definition["memory"] == resources["memory"]
    assert task_definition["executionRoleArn"] == EXECUTION_ROLE
    assert "taskRoleArn" not in task_definition

    (container,) = task_definition["containerDefinitions"]
    assert container["name"] == launcher.container_name
    assert container["image"] == IMAGE
    assert container["logConfiguration"]["logDriver"] == "awslogs"
    assert container["logConfiguration"]["options"]["awslogs-group"] == LOG_GROUP
    assert container["logConfiguration"]["options"]["awslogs-region"] == REGION
    assert (
        container["logConfiguration"]["options"]["awslogs-stream-prefix"]
        == (task_definition["family"])
    )
    # Plain env: the daemon's values of the configured names, and nothing else.
    environment = {item["name"]: item["value"] for item in container["environment"]}
    expected_env = {name: os.environ[name] for name in launcher.env_vars}
    assert environment == {**expected_env, "DAGSTER_RUN_JOB_NAME": "notify_job"}
    # Secrets: exactly the tagged ones, by ARN.
    secrets = {item["name"]: item["valueFrom"] for item in container["secrets"]}
    assert secrets == tagged_secrets

    assert task["taskDefinitionArn"] == task_definition["taskDefinitionArn"]
    assert {"key": "dagster/run_id", "value": run.run_id} in task["tags"]

    # Run monitoring sees the task, and cancelling the run stops it.
    health = launcher.check_run_worker_health(instance.get_run_by_id(run.run_id))
    assert health.status == WorkerStatus.RUNNING
    assert launcher.terminate(run.run_id)
    (task,) = ecs.describe_tasks(cluster=daemon_task["cluster"], tasks=[task.get("taskArn")])[
        "tasks"
    ]
    assert task["lastStatus"] == "STOPPED"

    # Every call is one the daemon's task role allows (deploy/ecs/README.md).
    assert {action for action, _ in aws_calls} <= DAEMON_ROLE_ACTIONS
