"""A fake OpenAI-compatible chat completions server, for tests against the real SDK.

    with FakeOpenAI() as fake:
        client = OpenAIClient(api_key="sk-test", base_url=fake.base_url)
        fake.enqueue(rate_limited(retry_after=0.2))  # the next request gets a 429
        client.score(job, "python", None)            # 429, SDK waits 0.2 s, then success
        assert len(fake.requests) == 2

It serves POST /v1/chat/completions on 127.0.0.1 (ephemeral port) in the real response shape
and records every request in `fake.requests` (method, path, lower-cased headers, JSON body).

Default answer (when no scripted behaviour is queued): a valid JSON object for the schema the
request names in `response_format.json_schema.name`:
- MatchAnalysis: the score is `fake.score_fn(request_body)`; recommendation follows the score
  band (>= 70 apply, 40-69 consider, < 40 skip). The default `score_fn` is `default_score`:
  85 when a word of the user's wishes (3+ characters, not a filler word such as "roles" or
  "want") appears in the posting's title, else 30. It does not understand negation: "no
  crypto" still matches a "Crypto Engineer" title. So with the default threshold of 70, a user
  is notified exactly of the jobs whose title shares a word with their prompt.
- CompanyProfile: a profile naming the company from the request; unknown fields are null.
- WishProfile: `read_wishes_locally` of the request's <user_wishes> block (every field
  present, as strict mode requires), so a test can predict it.
Any other schema gets a 400.

The Batch API as the SDK uses it: POST /v1/files (multipart, purpose=batch), POST
/v1/batches, GET /v1/batches/{id}, POST /v1/batches/{id}/cancel, GET /v1/files/{id}/content.
A batch answers each JSONL line like POST /v1/chat/completions (same score_fn, same usage)
when it completes: on its `fake.batch_polls_to_complete`-th GET (default 1). With
`fake.batch_outcome = "failed"` (or "expired") it ends so instead, without output.
`fake.batch_line_behaviours[custom_id] = malformed()` answers that line as the behaviour
says (an error status goes to the batch's error file). Submitted files and batches are in
`fake.files` and `fake.batches`; `fake.batch_upload_status = 500` fails uploads. Batch
endpoints do not use the scripted queue.

Scripted behaviours (`fake.enqueue(*behaviours, times=1)`) answer the next requests in order,
one each; when the queue is empty the default answer returns. Build them with the factories
below: rate_limited, quota_exceeded, server_error, unauthorized, status_error, malformed,
missing_fields, score_out_of_range, refusal, truncated, slow, drop_connection.
"""

from __future__ import annotations

import dataclasses
import email.policy
import json
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from jobping_dagster.llm.local.wish_reader import read_wishes_locally

MAX_BODY_BYTES = 2_000_000
MAX_FILE_BYTES = 100_000_000
MAX_DELAY_SECONDS = 30.0
MAX_RECORDED_REQUESTS = 10_000

FILLER_WORDS = frozenset(
    """the and for with from that this are not but any all who what into onto over than
    role roles job jobs position positions work working want wants looking look seeking
    prefer ideally please least most more less year years per company companies team""".split()
)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: Any  # the parsed JSON body, or None when it was not JSON


@dataclass(frozen=True)
class Behaviour:
    """How to answer one request. Prefer the factory functions below."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    error: dict | None = None  # for status >= 400: the `error` object of the body
    content: str | None = None  # 200: raw message content instead of the default answer
    finish_reason: str = "stop"
    refusal: str | None = None
    delay: float = 0.0  # seconds to wait before answering (bounded)
    drop: bool = False  # close the connection without any answer


def rate_limited(retry_after: float | None = 0.2, retry_after_ms: int | None = None) -> Behaviour:
    """A 429 rate limit (clears by waiting). The SDK honours the headers up to 120 s."""
    headers = {"x-ratelimit-remaining-requests": "0", "x-ratelimit-remaining-tokens": "0"}
    if retry_after is not None:
        headers["retry-after"] = f"{retry_after:g}"
    if retry_after_ms is not None:
        headers["retry-after-ms"] = str(retry_after_ms)
    return Behaviour(
        status=429,
        headers=headers,
        error={
            "message": "Rate limit reached for gpt-4o-mini on tokens per min (TPM).",
            "type": "requests",
            "param": None,
            "code": "rate_limit_exceeded",
        },
    )


def quota_exceeded() -> Behaviour:
    """A 429 that waiting does not clear: the account is out of credit."""
    return Behaviour(
        status=429,
        error={
            "message": "You exceeded your current quota, please check your plan and billing.",
            "type": "insufficient_quota",
            "param": None,
            "code": "insufficient_quota",
        },
    )


def server_error(status: int = 500) -> Behaviour:
    return Behaviour(
        status=status,
        error={"message": "The server had an error.", "type": "server_error", "code": None},
    )


def unauthorized() -> Behaviour:
    """A 401 whose message echoes the presented key in full (OpenAI masks it; echoing it all
    is the harsher test that our error reasons never repeat server messages)."""
    return Behaviour(status=401, error={"message": "Incorrect API key provided: {api_key}."})


def status_error(status: int, code: str | None = None, message: str = "error") -> Behaviour:
    return Behaviour(status=status, error={"message": message, "type": code, "code": code})


def malformed(content: str = "Sure! Here is the analysis: score 90") -> Behaviour:
    """A 200 whose message content is not JSON."""
    return Behaviour(content=content)


def missing_fields() -> Behaviour:
    return Behaviour(content=json.dumps({"score": 80}))


def score_out_of_range(score: int = 150) -> Behaviour:
    return Behaviour(content=json.dumps(_match_answer(score)))


def refusal() -> Behaviour:
    return Behaviour(refusal="I'm sorry, I can't help with that.")


def truncated() -> Behaviour:
    return Behaviour(content='{"score": 80, "explanation": "The role', finish_reason="length")


def slow(seconds: float, then: Behaviour | None = None) -> Behaviour:
    """Waits `seconds` (at most 30), then answers as `then` (default: the normal answer)."""
    base = then or Behaviour()
    return dataclasses.replace(base, delay=seconds)


def drop_connection() -> Behaviour:
    return Behaviour(drop=True)


def block(body: Any, tag: str) -> str | None:
    """The text inside `<tag>...</tag>` in the request's messages, or None."""
    for message in reversed((body or {}).get("messages") or []):
        content = message.get("content")
        if not isinstance(content, str):
            continue
        found = re.search(rf"<{tag}>\n?(.*?)\n?</{tag}>", content, re.DOTALL)
        if found:
            return found.group(1)
    return None


def job_title(body: Any) -> str:
    posting = block(body, "job_posting") or ""
    found = re.search(r"^Title: (.*)$", posting, re.MULTILINE)
    return found.group(1) if found else ""


def user_wishes(body: Any) -> str:
    return block(body, "user_wishes") or ""


def default_score(body: Any) -> int:
    return score_for(user_wishes(body), job_title(body))


def score_for(wishes: str, title: str) -> int:
    """85 when a word of the user's wishes appears in the job title, else 30: the rule a
    test can apply on its own to know which matches must be notified."""
    return 85 if (_words(wishes) - FILLER_WORDS) & _words(title) else 30


def _words(text: str) -> set[str]:
    return {word for word in re.findall(r"[a-z0-9+#]+", text.lower()) if len(word) >= 3}


def _match_answer(score: int) -> dict:
    recommendation = "apply" if score >= 70 else "consider" if score >= 40 else "skip"
    return {
        "score": score,
        "explanation": f"Fake scorer: score {score}.",
        "pros": ["fake pro"] if score >= 40 else [],
        "cons": [] if score >= 70 else ["fake con"],
        "recommendation": recommendation,
    }


def _profile_answer(body: Any) -> dict:
    facts = block(body, "company_facts") or ""
    found = re.search(r"^Name: (.*)$", facts, re.MULTILINE)
    name = found.group(1) if found else "The company"
    return {
        "summary": f"{name} (fake research).",
        "industry": None,
        "size": None,
        "headquarters": None,
        "website": None,
        "culture": [],
        "red_flags": [],
    }


def _wishes_answer(body: Any) -> dict:
    return read_wishes_locally(user_wishes(body)).model_dump(mode="json")


class FakeOpenAI:
    def __init__(self, score_fn: Callable[[Any], int] = default_score):
        self.score_fn = score_fn
        self._lock = threading.Lock()
        self._queue: deque[Behaviour] = deque()
        self._requests: list[RecordedRequest] = []
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._counter = 0
        self._recent_prompts: deque[str] = deque(maxlen=64)
        # The Batch API.
        self.files: dict[str, dict] = {}  # id -> {"purpose", "filename", "data": bytes}
        self.batches: dict[str, dict] = {}  # id -> the batch object (plus "polls")
        self.batch_polls_to_complete = 1
        self.batch_outcome: str = "completed"  # or "failed", "expired"
        self.batch_line_behaviours: dict[str, Behaviour] = {}
        self.batch_upload_status = 200  # e.g. 500: POST /v1/files fails so

    def _cached_tokens(self, prompt: str) -> int:
        """Tokens of `prompt`'s longest prefix shared with a recent prompt, as the provider's
        prompt cache would serve them (call under the lock)."""
        longest = 0
        for earlier in self._recent_prompts:
            shared = len(os.path.commonprefix([earlier, prompt]))
            longest = max(longest, shared)
        self._recent_prompts.append(prompt)
        tokens = _tokens(prompt[:longest]) if longest else 0
        if tokens < CACHE_MIN_TOKENS:
            return 0
        return tokens - tokens % CACHE_STEP_TOKENS

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeOpenAI is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def pending(self) -> int:
        """Scripted behaviours not used yet."""
        with self._lock:
            return len(self._queue)

    def enqueue(self, *behaviours: Behaviour, times: int = 1) -> None:
        with self._lock:
            for _ in range(times):
                self._queue.extend(behaviours)

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self._requests.clear()

    def start(self) -> FakeOpenAI:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        # A short poll interval makes stop() quick: shutdown() waits for the next poll.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-openai",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping in a slow behaviour
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # Called from handler threads.

    def _record(self, request: RecordedRequest) -> Behaviour | None:
        """Records the request; returns the scripted behaviour for it, if any."""
        with self._lock:
            if len(self._requests) < MAX_RECORDED_REQUESTS:
                self._requests.append(request)
            self._counter += 1
            return self._queue.popleft() if self._queue else None

    def _completion(self, body: Any, behaviour: Behaviour) -> tuple[int, dict]:
        if behaviour.content is not None or behaviour.refusal is not None:
            content = behaviour.content
        else:
            schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("name")
            if schema == "MatchAnalysis":
                content = json.dumps(_match_answer(int(self.score_fn(body))))
            elif schema == "CompanyProfile":
                content = json.dumps(_profile_answer(body))
            elif schema == "WishProfile":
                content = json.dumps(_wishes_answer(body))
            else:
                return 400, _error_body(f"unsupported response_format {schema!r}", "invalid")
        prompt = "".join(str(m.get("content", "")) for m in body.get("messages", []))
        with self._lock:
            number = self._counter
            cached = self._cached_tokens(prompt)
        return 200, {
            "id": f"chatcmpl-fake-{number}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "gpt-4o-mini"),
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": content,
                        "refusal": behaviour.refusal,
                    },
                    "logprobs": None,
                    "finish_reason": behaviour.finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": _tokens(prompt),
                "completion_tokens": _tokens(content or ""),
                "total_tokens": _tokens(prompt) + _tokens(content or ""),
                "prompt_tokens_details": {"cached_tokens": cached},
            },
            "system_fingerprint": "fp_fake",
        }

    # The Batch API (called from handler threads).

    def _add_file(self, data: bytes, purpose: str, filename: str) -> dict:
        with self._lock:
            file_id = f"file-fake-{len(self.files) + 1}"
            self.files[file_id] = {"purpose": purpose, "filename": filename, "data": data}
        return {
            "id": file_id,
            "object": "file",
            "bytes": len(data),
            "created_at": int(time.time()),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
        }

    def _create_batch(self, body: dict) -> tuple[int, dict]:
        input_file_id = body.get("input_file_id")
        if input_file_id not in self.files:
            return 400, _error_body("unknown input_file_id", "invalid_request")
        with self._lock:
            batch_id = f"batch_fake_{len(self.batches) + 1}"
            total = len(self.files[input_file_id]["data"].splitlines())
            self.batches[batch_id] = {
                "id": batch_id,
                "object": "batch",
                "endpoint": body.get("endpoint"),
                "input_file_id": input_file_id,
                "completion_window": body.get("completion_window", "24h"),
                "status": "validating",
                "output_file_id": None,
                "error_file_id": None,
                "created_at": int(time.time()),
                "request_counts": {"total": total, "completed": 0, "failed": 0},
                "polls": 0,
            }
        return 200, self._batch_view(batch_id)

    def _batch_view(self, batch_id: str) -> dict:
        return {k: v for k, v in self.batches[batch_id].items() if k != "polls"}

    def _poll_batch(self, batch_id: str) -> tuple[int, dict]:
        batch = self.batches.get(batch_id)
        if batch is None:
            return 404, _error_body("no such batch", "not_found")
        if batch["status"] in ("validating", "in_progress"):
            batch["polls"] += 1
            if batch["polls"] >= self.batch_polls_to_complete:
                self._finish_batch(batch)
            else:
                batch["status"] = "in_progress"
        return 200, self._batch_view(batch_id)

    def _finish_batch(self, batch: dict) -> None:
        if self.batch_outcome != "completed":
            batch["status"] = self.batch_outcome
            batch[f"{self.batch_outcome}_at"] = int(time.time())
            return
        outputs, errors = [], []
        for number, raw in enumerate(self.files[batch["input_file_id"]]["data"].splitlines()):
            line = json.loads(raw)
            custom_id = line["custom_id"]
            behaviour = self.batch_line_behaviours.get(custom_id, Behaviour())
            if behaviour.status >= 400:
                status, payload = behaviour.status, {"error": dict(behaviour.error or {})}
            else:
                status, payload = self._completion(line["body"], behaviour)
            out = {
                "id": f"batch_req_{number}",
                "custom_id": custom_id,
                "response": {"status_code": status, "request_id": "req_fake", "body": payload},
                "error": None,
            }
            (outputs if status == 200 else errors).append(json.dumps(out))
        batch["status"] = "completed"
        batch["completed_at"] = int(time.time())
        batch["request_counts"]["completed"] = len(outputs)
        batch["request_counts"]["failed"] = len(errors)
        for lines, field_name in ((outputs, "output_file_id"), (errors, "error_file_id")):
            if lines:
                data = ("\n".join(lines) + "\n").encode()
                batch[field_name] = self._add_file(data, "batch_output", "out.jsonl")["id"]

    def _cancel_batch(self, batch_id: str) -> tuple[int, dict]:
        batch = self.batches.get(batch_id)
        if batch is None:
            return 404, _error_body("no such batch", "not_found")
        batch["status"] = "cancelled"
        return 200, self._batch_view(batch_id)


def _tokens(text: str) -> int:
    """About four characters a token, as OpenAI's tokenizers average on English."""
    return max(1, len(text) // 4)


# OpenAI's prompt cache: prompts of 1024 tokens or more, their prefix seen recently, cached
# in steps of 128 tokens.
CACHE_MIN_TOKENS = 1024
CACHE_STEP_TOKENS = 128


def _error_body(message: str, code: str | None) -> dict:
    return {"error": {"message": message, "type": code, "param": None, "code": code}}


def _multipart(content_type: str, raw: bytes) -> dict[str, tuple[bytes, str | None]]:
    """name -> (bytes, filename) of a multipart/form-data body."""
    message = BytesParser(policy=email.policy.HTTP).parsebytes(
        f"content-type: {content_type}\r\n\r\n".encode() + raw
    )
    fields = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            fields[name] = (part.get_payload(decode=True) or b"", part.get_filename())
    return fields


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 drops connections when many clients call at once, and the
    # kernel's retry after 1 s would show up as latency in concurrent tests.
    request_queue_size = 128


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOpenAI  # set on the subclass made by FakeOpenAI.start

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if self.path.startswith(("/v1/files", "/v1/batches")) and length <= MAX_FILE_BYTES:
            self._batch_post(self.rfile.read(length))
            return
        if length > MAX_BODY_BYTES:
            self._send(413, _error_body("request too large", "too_large"))
            return
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        headers = {name.lower(): value for name, value in self.headers.items()}
        behaviour = self.fake._record(RecordedRequest("POST", self.path, headers, body))
        behaviour = behaviour or Behaviour()

        if behaviour.delay and self.fake._stopping.wait(min(behaviour.delay, MAX_DELAY_SECONDS)):
            return  # shutting down: leave without answering
        if behaviour.drop:
            self.close_connection = True
            return
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send(404, _error_body(f"unknown path {self.path}", "not_found"))
        elif not isinstance(body, dict):
            self._send(400, _error_body("body is not a JSON object", "invalid_json"))
        elif behaviour.status >= 400:
            error = dict(behaviour.error or {"message": "error"})
            key = headers.get("authorization", "").removeprefix("Bearer ")
            error["message"] = str(error.get("message", "")).replace("{api_key}", key)
            self._send(behaviour.status, {"error": error}, behaviour.headers)
        else:
            status, payload = self.fake._completion(body, behaviour)
            self._send(status, payload, behaviour.headers)

    def _batch_post(self, raw: bytes) -> None:
        path = self.path.rstrip("/")
        with self.fake._lock:
            if len(self.fake._requests) < MAX_RECORDED_REQUESTS:
                headers = {name.lower(): value for name, value in self.headers.items()}
                self.fake._requests.append(RecordedRequest("POST", path, headers, None))
        if path == "/v1/files" and self.fake.batch_upload_status >= 400:
            status = self.fake.batch_upload_status
            self._send(status, _error_body("upload failed", "server_error"))
        elif path == "/v1/files":
            fields = _multipart(self.headers.get("content-type", ""), raw)
            data, filename = fields.get("file", (b"", "upload"))
            purpose = fields.get("purpose", (b"", None))[0].decode()
            self._send(200, self.fake._add_file(data, purpose, filename or "upload"))
        elif path == "/v1/batches":
            self._send(*self.fake._create_batch(json.loads(raw or b"{}")))
        elif re.fullmatch(r"/v1/batches/[^/]+/cancel", path):
            self._send(*self.fake._cancel_batch(path.split("/")[3]))
        else:
            self._send(404, _error_body(f"unknown path {self.path}", "not_found"))

    def do_GET(self) -> None:
        path = self.path.rstrip("/")
        with self.fake._lock:
            if len(self.fake._requests) < MAX_RECORDED_REQUESTS:
                headers = {name.lower(): value for name, value in self.headers.items()}
                self.fake._requests.append(RecordedRequest("GET", path, headers, None))
        found = re.fullmatch(r"/v1/batches/([^/]+)", path)
        if found:
            self._send(*self.fake._poll_batch(found.group(1)))
            return
        found = re.fullmatch(r"/v1/files/([^/]+)/content", path)
        if found and found.group(1) in self.fake.files:
            data = self.fake.files[found.group(1)]["data"]
            self.send_response(200)
            self.send_header("content-type", "application/octet-stream")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self._send(404, _error_body(f"unknown path {self.path}", "not_found"))

    def _send(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.send_header("x-request-id", "req_fake")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (e.g. its timeout fired): nothing to answer
