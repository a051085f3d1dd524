"""Scores one user x job pair now: the API asks the Dagster webserver, over its GraphQL API,
to add the pair's partition and launch `match_job` for it. The run is queued like any other
(the daemon starts it when a run slot is free) and carries the tags the fan-out sensor gives
a run of one pair, so the sensor sees it and re-drives the pair if the run ends without it.

Plain HTTP with `requests` (a dependency of JobPing and of Dagster's own client): Dagster's
GraphQL client has no call to add a dynamic partition, and reports every failure as one
exception type, where the API must tell "try again later" from "refused"."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import requests

from jobping_dagster.matching.assets import pair_partitions_def
from jobping_dagster.matching.pairs import parse_pair_key
from jobping_dagster.matching.sensors import match_job
from jobping_dagster.run_limits import match_run_tags
from jobping_dagster.serve import LOCATION_NAME

# Dagster's name for the repository of a code location defined with `dg.Definitions`.
REPOSITORY_NAME = "__repository__"
PARTITION_TAG = "dagster/partition"
RUN_KEY_TAG = "dagster/run_key"
# Statuses that say "not now" rather than "no": overloaded, rate-limited, or a proxy whose
# upstream (the webserver) is down.
_BUSY_STATUSES = {429} | set(range(500, 600))
_MAX_MESSAGE = 300

_ADD_PARTITION = """
mutation AddPair($repositorySelector: RepositorySelector!, $partitionsDefName: String!,
                 $partitionKey: String!) {
  addDynamicPartition(repositorySelector: $repositorySelector,
                      partitionsDefName: $partitionsDefName, partitionKey: $partitionKey) {
    __typename
    ... on Error { message }
  }
}
"""
_LAUNCH_RUN = """
mutation LaunchPairRun($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on Error { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""
_LOCATION = """
query JobPingLocation($name: String!) {
  workspaceLocationEntryOrError(name: $name) {
    __typename
    ... on WorkspaceLocationEntry { loadStatus locationOrLoadError { __typename } }
  }
}
"""


class RunLaunchError(Exception):
    """The run was not launched. The message names no secret (no URL credentials)."""


class SchedulerUnreachable(RunLaunchError):
    """Dagster cannot take the run now (webserver down or overloaded, timeout, JobPing's code
    location loading or unloaded): try again later. A launch that timed out may still have
    been queued; trying again then queues a second run of the pair, which scores it again."""


class LaunchRefused(RunLaunchError):
    """Dagster answered and refused the launch (an unknown job or partition set, a
    permission, an error inside Dagster): trying again will not help."""


def launch_pair_run(graphql_url: str, key: str, run_key: str, timeout: float = 10.0) -> str:
    """Adds the pair partition `key` (`u<user>-j<job>`; already there is fine) and queues a
    `match_job` run of it tagged with `dagster/partition`, `dagster/run_key` = `run_key` and
    the `dagster/max_runtime` of a one-pair run; returns the run id. `timeout` is for the
    whole call, in seconds: each request waits only what is left of it. The pair must be
    recorded in the app database first
    (`record_pulled` with the same `run_key`). Raises ValueError for a malformed key,
    SchedulerUnreachable or LaunchRefused."""
    parse_pair_key(key)
    client = _Client(graphql_url, time.monotonic() + timeout)
    repository = {"repositoryLocationName": LOCATION_NAME, "repositoryName": REPOSITORY_NAME}
    added = client.mutate(
        _ADD_PARTITION,
        {
            "repositorySelector": repository,
            "partitionsDefName": pair_partitions_def.name,
            "partitionKey": key,
        },
        "addDynamicPartition",
    )
    if added["__typename"] not in ("AddDynamicPartitionSuccess", "DuplicateDynamicPartitionError"):
        client.refuse("adding the pair's partition", added)
    tags = {PARTITION_TAG: key, RUN_KEY_TAG: run_key, **match_run_tags(1)}
    launched = client.mutate(
        _LAUNCH_RUN,
        {
            "executionParams": {
                "selector": {**repository, "jobName": match_job.name},
                "runConfigData": {},
                "executionMetadata": {
                    "tags": [{"key": name, "value": value} for name, value in tags.items()]
                },
            }
        },
        "launchRun",
    )
    if launched["__typename"] != "LaunchRunSuccess":
        client.refuse(f"launching {match_job.name}", launched)
    return launched["run"]["runId"]


class _Client:
    """POSTs GraphQL documents to one webserver until one deadline."""

    def __init__(self, url: str, deadline: float):
        self.url = url
        self.deadline = deadline
        parts = urlsplit(url)
        # Where, for messages: never the URL itself, which may hold credentials.
        self.where = f"the Dagster webserver at {parts.hostname or '?'}" + (
            f":{parts.port}" if parts.port else ""
        )

    def mutate(self, document: str, variables: dict, field: str) -> dict[str, Any]:
        result = self.post(document, variables).get(field)
        if not isinstance(result, dict) or "__typename" not in result:
            raise LaunchRefused(f"{self.where} gave no {field} result")
        return result

    def post(self, document: str, variables: dict) -> dict[str, Any]:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise SchedulerUnreachable(f"{self.where} did not answer in time")
        try:
            response = requests.post(
                self.url, json={"query": document, "variables": variables}, timeout=remaining
            )
        except requests.Timeout:
            raise SchedulerUnreachable(f"{self.where} did not answer in time") from None
        except requests.ConnectionError as error:
            raise SchedulerUnreachable(f"{self.where} is unreachable: {_reason(error)}") from None
        except requests.RequestException as error:
            # An invalid URL (the setting): no retry will help.
            raise LaunchRefused(f"cannot call {self.where}: {type(error).__name__}") from None
        if response.status_code in _BUSY_STATUSES:
            raise SchedulerUnreachable(f"{self.where} answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise LaunchRefused(
                f"{self.where} answered HTTP {response.status_code} without a GraphQL result"
            )
        errors = body.get("errors")
        if errors:
            first = errors[0].get("message", "") if isinstance(errors[0], dict) else errors[0]
            raise LaunchRefused(f"{self.where} rejected the request: {_short(str(first))}")
        if not response.ok or not isinstance(body.get("data"), dict):
            raise LaunchRefused(f"{self.where} answered HTTP {response.status_code} without data")
        return body["data"]

    def refuse(self, doing: str, result: dict[str, Any]) -> None:
        """Raises for a mutation's error result: SchedulerUnreachable when JobPing's code
        location is not loaded (Dagster then knows neither the job nor the partitions, and
        says so), else LaunchRefused with Dagster's reason."""
        problem = self.location_problem()
        if problem:
            raise SchedulerUnreachable(f"{self.where}: {problem}")
        details = result.get("message") or "; ".join(
            error.get("message", "") for error in result.get("errors") or []
        )
        reason = f"{result['__typename']}: {_short(details)}" if details else result["__typename"]
        raise LaunchRefused(f"{doing} was refused by {self.where}: {reason}")

    def location_problem(self) -> str | None:
        """Why JobPing's code location cannot take runs now, or None (loaded, or unknown)."""
        try:
            data = self.post(_LOCATION, {"name": LOCATION_NAME})
        except RunLaunchError:
            return None
        entry = data.get("workspaceLocationEntryOrError") or {}
        if entry.get("__typename") != "WorkspaceLocationEntry":
            return None
        if entry.get("loadStatus") == "LOADING":
            return f"code location {LOCATION_NAME} is loading"
        loaded = (entry.get("locationOrLoadError") or {}).get("__typename")
        if loaded != "RepositoryLocation":
            return f"code location {LOCATION_NAME} failed to load (is its code server up?)"
        return None


def _reason(error: requests.ConnectionError) -> str:
    """A short cause of a connection error, without the URL requests puts in its message."""
    text = str(error)
    for cause in (
        "Connection refused",
        "Name or service not known",
        "Temporary failure in name resolution",
        "No route to host",
        "Network is unreachable",
        "Connection reset",
        "Remote end closed connection",
    ):
        if cause.lower() in text.lower():
            return cause.lower()
    return type(error).__name__


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"
