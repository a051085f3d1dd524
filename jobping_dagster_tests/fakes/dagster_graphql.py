"""A fake of the Dagster webserver's GraphQL endpoint on 127.0.0.1: answers each POST with a
function of its body, and keeps what it got. Used to tell launch failures apart and to give
the API a scheduler that accepts launches."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Answer = tuple[int, object]  # HTTP status, JSON body (or bytes sent as they are)


class TinyGraphQL:
    """An HTTP server on 127.0.0.1 that answers each POST with `answer(request body)` and
    keeps the requests it got."""

    def __init__(self, answer: Callable[[dict], Answer]):
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(body)
                status, payload = answer(body)
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/graphql"

    def __enter__(self) -> TinyGraphQL:
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def operations(self) -> list[str]:
        return [request["query"].split("(")[0].split()[-1] for request in self.requests]


def loaded(status: str = "LOADED", location: str = "RepositoryLocation") -> dict:
    return {
        "workspaceLocationEntryOrError": {
            "__typename": "WorkspaceLocationEntry",
            "loadStatus": status,
            "locationOrLoadError": {"__typename": location},
        }
    }


def dagster(add: dict, launch: dict | None = None, location: dict | None = None):
    """Answers like the webserver: `add` for addDynamicPartition, `launch` for launchRun,
    `location` for the code location's status."""

    def answer(body: dict) -> Answer:
        query = body["query"]
        if "addDynamicPartition" in query:
            return 200, {"data": {"addDynamicPartition": add}}
        if "launchRun" in query:
            return 200, {"data": {"launchRun": launch}}
        return 200, {"data": location or loaded()}

    return answer


ADDED = {"__typename": "AddDynamicPartitionSuccess"}
LAUNCHED = {"__typename": "LaunchRunSuccess", "run": {"runId": "abc-123"}}
