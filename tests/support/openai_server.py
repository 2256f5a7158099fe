"""A scripted OpenAI-compatible Chat Completions server for offline tests.

Tests point a provider at ``srv.base_url`` and script what it answers, one
reply per request in order: text (optionally streamed in chunks as SSE, with
a delay), one or several tool calls at once (``srv.tool_calls(...)``, also
streamed, the arguments in pieces), or an HTTP error with an OpenAI-style
error body.  Every request is
recorded, so a test can check what the provider really sent (messages,
temperature, max_tokens, stop, stream).

    with ScriptedOpenAIServer() as srv:
        srv.reply("hello", delay=0.2)
        srv.fail(429, "slow down")
        ... point OPENAI_BASE_URL / base_url at srv.base_url ...
        assert srv.requests[0].body["temperature"] == 0.5

When the script runs out, the ``default`` reply is used if one is set
(``srv.always("ok")``), otherwise the server answers 500, so a test that
makes more calls than it scripted fails loudly.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted answer."""

    text: str = ""
    status: int = 200
    #: Seconds to wait before answering (before the first byte).
    delay: float = 0.0
    #: For streamed requests: the pieces to send; ``None`` splits ``text`` into words.
    chunks: list[str] | None = None
    #: Seconds between streamed chunks.
    chunk_delay: float = 0.0
    finish_reason: str = "stop"
    #: ``(prompt_tokens, completion_tokens)``; ``None`` counts words.
    usage: tuple[int, int] | None = None
    #: The ``model`` field of the answer; ``None`` echoes the request's model.
    model: str | None = None
    #: For errors: the OpenAI error ``type`` and ``code``.
    error_type: str | None = None
    error_code: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    #: Hold the answer until this many requests are being answered at once (at most 10 s): lets a test
    #: prove that calls overlap without measuring time.
    gather: int | None = None
    #: Tool calls the answer asks for, all at once: ``(name, arguments)`` each (then ``finish_reason``
    #: is ``tool_calls``); streamed, each call's arguments arrive in pieces of ``chunk_size`` characters.
    tool_calls: list[tuple[str, dict[str, Any]]] | None = None
    chunk_size: int = 7


@dataclass
class RecordedRequest:
    """What the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", [])) if isinstance(self.body, dict) else []


class _Server(ThreadingHTTPServer):
    #: Many spells call at once (Promise.all of ten); the default backlog of 5 drops some.
    request_queue_size = 64
    daemon_threads = True


class ScriptedOpenAIServer:
    """An OpenAI-compatible server on 127.0.0.1 with an ephemeral port, answering from a script."""

    def __init__(self, models: tuple[str, ...] = ("scripted-model",)) -> None:
        self.models = models
        self.requests: list[RecordedRequest] = []
        self.default: Reply | None = None
        #: The most chat completion requests that were being answered at the same time.
        self.max_in_flight = 0
        self._in_flight = 0
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._closing = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> ScriptedOpenAIServer:
        handler = type("Handler", (_Handler,), {"server_ref": self})
        self._httpd = _Server(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="scripted-openai",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()  # wakes handlers sleeping in a delay
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ScriptedOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        """The URL to give a client as its base URL (ends in ``/v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    # -- scripting ----------------------------------------------------------------------------------

    def reply(self, text: str, **options: Any) -> ScriptedOpenAIServer:
        """Queue a successful answer; ``options`` are the fields of :class:`Reply`."""
        return self._queue(Reply(text=text, **options))

    def tool_calls(self, *calls: tuple[str, dict[str, Any]], text: str = "", **options: Any) -> ScriptedOpenAIServer:
        """Queue an answer that asks for these tool calls at once (``(name, arguments)`` each)."""
        options.setdefault("finish_reason", "tool_calls")
        return self._queue(Reply(text=text, tool_calls=list(calls), **options))

    def fail(self, status: int, message: str, **options: Any) -> ScriptedOpenAIServer:
        """Queue an HTTP error with an OpenAI-style ``{"error": {...}}`` body carrying ``message``."""
        return self._queue(Reply(text=message, status=status, **options))

    def always(self, text: str, **options: Any) -> ScriptedOpenAIServer:
        """Answer ``text`` whenever the script is empty."""
        self.default = Reply(text=text, **options)
        return self

    def _queue(self, reply: Reply) -> ScriptedOpenAIServer:
        with self._lock:
            self._script.append(reply)
        return self

    def _next(self) -> Reply:
        with self._lock:
            if self._script:
                return self._script.popleft()
        if self.default is not None:
            return self.default
        return Reply(text="scripted server: no reply queued for this request", status=500)

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _enter(self) -> None:
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            self._changed.notify_all()

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _gather(self, count: int) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self.max_in_flight >= count or self._closing.is_set(), timeout=10)

    @property
    def completions(self) -> list[RecordedRequest]:
        """The chat completion requests received, in order."""
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def wait(self, seconds: float) -> bool:
        """Sleep, waking early when the server closes; True if it is closing."""
        return self._closing.wait(seconds)


def _words(text: str) -> list[str]:
    pieces = text.split(" ")
    return [p + " " for p in pieces[:-1]] + [pieces[-1]] if text else []


def _count(messages: list[dict[str, Any]]) -> int:
    total = 0
    for m in messages:
        content = m.get("content")
        if isinstance(content, str):
            total += len(content.split())
        elif isinstance(content, list):
            total += sum(len(str(p.get("text", "")).split()) for p in content if isinstance(p, dict))
    return total


class _Handler(BaseHTTPRequestHandler):
    server_ref: ScriptedOpenAIServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes: avoid 40 ms ACK stalls

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 -- the stdlib's signature
        pass

    def _read_body(self) -> Any:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return raw.decode("utf-8", "replace")

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 -- the stdlib's name
        srv = self.server_ref
        srv._record(RecordedRequest("GET", self.path, _lower(self.headers), None))
        if self.path.rstrip("/").endswith("/models"):
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "scripted"} for m in srv.models]
            self._send_json(200, {"object": "list", "data": data})
        else:
            self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def do_POST(self) -> None:  # noqa: N802 -- the stdlib's name
        srv = self.server_ref
        body = self._read_body()
        srv._record(RecordedRequest("POST", self.path, _lower(self.headers), body))
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            return
        reply = srv._next()
        srv._enter()
        try:
            self._answer(srv, reply, body)
        finally:
            srv._leave()

    def _answer(self, srv: ScriptedOpenAIServer, reply: Reply, body: Any) -> None:
        if reply.gather:
            srv._gather(reply.gather)
        if reply.delay and srv.wait(reply.delay):
            return
        if reply.status != 200:
            error = {
                "message": reply.text,
                "type": reply.error_type or _error_type(reply.status),
                "code": reply.error_code,
                "param": None,
            }
            self._send_json(reply.status, {"error": error}, reply.headers)
            return
        body = body if isinstance(body, dict) else {}
        model = reply.model or body.get("model") or "scripted-model"
        prompt_tokens, completion_tokens = reply.usage or (
            _count(body.get("messages", [])),
            len(reply.text.split()),
        )
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        if body.get("stream"):
            self._stream(reply, model, usage, bool((body.get("stream_options") or {}).get("include_usage")))
            return
        message: dict[str, Any] = {"role": "assistant", "content": reply.text}
        if reply.tool_calls:
            message["content"] = reply.text or None
            message["tool_calls"] = [
                {"id": f"call_{i}", "type": "function",
                 "function": {"name": name, "arguments": json.dumps(args)}}
                for i, (name, args) in enumerate(reply.tool_calls)
            ]
        self._send_json(
            200,
            {
                "id": "chatcmpl-scripted",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason}],
                "usage": usage,
            },
            reply.headers,
        )

    def _stream(self, reply: Reply, model: str, usage: dict[str, int], include_usage: bool) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        self.close_connection = True
        base = {
            "id": "chatcmpl-scripted",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
        }

        def send(choices: list[dict[str, Any]], **extra: Any) -> None:
            event = {**base, "choices": choices, **extra}
            self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
            self.wfile.flush()

        try:
            send([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
            chunks = reply.chunks if reply.chunks is not None else _words(reply.text)
            for piece in chunks:
                if reply.chunk_delay and self.server_ref.wait(reply.chunk_delay):
                    return
                send([{"index": 0, "delta": {"content": piece}, "finish_reason": None}])
            for i, (name, args) in enumerate(reply.tool_calls or ()):
                start = {"index": i, "id": f"call_{i}", "type": "function",
                         "function": {"name": name, "arguments": ""}}
                send([{"index": 0, "delta": {"tool_calls": [start]}, "finish_reason": None}])
                text = json.dumps(args)
                for at in range(0, len(text), max(1, reply.chunk_size)):
                    piece = {"index": i, "function": {"arguments": text[at:at + reply.chunk_size]}}
                    send([{"index": 0, "delta": {"tool_calls": [piece]}, "finish_reason": None}])
            send([{"index": 0, "delta": {}, "finish_reason": reply.finish_reason}])
            if include_usage:
                send([], usage=usage)
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):  # the client went away (cancelled): fine
            pass


def _error_type(status: int) -> str:
    return {
        400: "invalid_request_error",
        401: "authentication_error",
        403: "permission_error",
        404: "not_found_error",
        429: "rate_limit_error",
    }.get(status, "server_error")


def _lower(headers: Any) -> dict[str, str]:
    """Header names in lower case, so tests need not guess each client's spelling."""
    return {key.lower(): value for key, value in headers.items()}
