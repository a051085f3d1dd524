"""Keeps Dagster's code server working when a run worker hangs.

The code server (the gRPC server that starts each run as a child process) ends a run by
setting the run's multiprocessing Event: run monitoring does so when a run passes its
`dagster/max_runtime`, and so does Terminate in the UI. `multiprocessing.Event.set()`
waits until every process waiting on the event has woken up, and Dagster calls it while
holding the lock that starting, listing and ending runs all take. A worker that cannot run
(stopped, or stuck in native code holding the GIL) never wakes up, so the code server hung
for good: every later run failed to start (StartRun timed out after 60 s, STARTING runs
failed at the start timeout), retries included, until the worker died.

`install()` (called when the code location is loaded, before the server registers its
handlers) replaces two handlers of Dagster 1.13's `DagsterApiServer`:
- CancelExecution records the request under the lock as before, and sets the event in a
  thread of its own, outside the lock; a hung worker then blocks only that thread, and
  run monitoring marks its run failed and frees its slots as usual;
- CanCancelExecution answers from that record instead of asking the event, which would
  wait for the event's own lock, held by a blocked `set()`.
These are Dagster internals (`dagster._grpc`), pinned in constraints.txt; the fault test
`test_faults_runs.py` freezes a worker and checks that runs still start."""

from __future__ import annotations

import sys
import threading
import time

from dagster._grpc.__generated__ import dagster_api_pb2
from dagster._grpc.server import DagsterApiServer
from dagster._grpc.types import (
    CanCancelExecutionRequest,
    CanCancelExecutionResult,
    CancelExecutionRequest,
    CancelExecutionResult,
)
from dagster._serdes import deserialize_value, serialize_value
from dagster._utils.error import serializable_error_info_from_exc_info


def _cancel_execution(self, request, _context):
    event, error, first_request = None, None, False
    try:
        run_id = deserialize_value(
            request.serialized_cancel_execution_request, CancelExecutionRequest
        ).run_id
        with self._execution_lock:
            if run_id in self._executions:
                event = self._termination_events[run_id]
                first_request = run_id not in self._termination_times
                if first_request:
                    self._termination_times[run_id] = time.time()
    except Exception:
        error = serializable_error_info_from_exc_info(sys.exc_info())
    if event is not None and first_request:
        # Returns once the worker has woken up: never, while it hangs.
        threading.Thread(target=event.set, name=f"cancel-{run_id}", daemon=True).start()
    return dagster_api_pb2.CancelExecutionReply(
        serialized_cancel_execution_result=serialize_value(
            CancelExecutionResult(
                success=event is not None, message=None, serializable_error_info=error
            )
        )
    )


def _can_cancel_execution(self, request, _context):
    run_id = deserialize_value(
        request.serialized_can_cancel_execution_request, CanCancelExecutionRequest
    ).run_id
    with self._execution_lock:
        can_cancel = run_id in self._executions and run_id not in self._termination_times
    return dagster_api_pb2.CanCancelExecutionReply(
        serialized_can_cancel_execution_result=serialize_value(
            CanCancelExecutionResult(can_cancel=can_cancel)
        )
    )


def install() -> None:
    """Idempotent; harmless in processes that serve no gRPC."""
    DagsterApiServer.CancelExecution = _cancel_execution
    DagsterApiServer.CanCancelExecution = _can_cancel_execution
