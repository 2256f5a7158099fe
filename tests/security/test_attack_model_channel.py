"""A spell that broke out of its VM, talking to the parent over the worker's pipe.

The worker asks its parent for model requests (models/remote.py ->
models/gateway.py), so the pipe between them is a door into the process that
holds the keys.  These tests act from *inside* the worker, as a spell that
escaped into Python would (``worker._TEST_PROBE``, see
test_kernel_confinement.py): they write forged frames on the pipe and forged
model requests, and check that the parent runs nothing a pickle names,
refuses what the run's policy refuses whatever the worker claims, refuses
huge messages from their header, and stays up: the same Runtime then runs an
ordinary spell.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import socket
import struct
import time
from pathlib import Path
from typing import Any

import pytest

from llmspell import Policy, Runtime
from llmspell.config import Settings
from llmspell.errors import SpellError
from llmspell.models import source
from llmspell.sandbox import worker


def _runtime(**policy: Any) -> Runtime:
    return Runtime(policy=Policy(**policy), config=Settings(env={}), model="test")


def _probe_run(monkeypatch: pytest.MonkeyPatch, runtime: Runtime, probe: Any) -> Any:
    monkeypatch.setattr(worker, "_TEST_PROBE", probe)
    try:
        return runtime.run(source="return 1", language="lua")
    finally:
        monkeypatch.setattr(worker, "_TEST_PROBE", None)


def _still_serves(runtime: Runtime) -> None:
    """The parent is alive and its runtime still runs spells that call models."""
    assert runtime.run(source='return llm.complete({prompt = "hi"}).model', language="lua") == "test"


def _raw(body: bytes, size: int | None = None) -> None:
    """Write a frame with ``body`` (and a header saying ``size``) on the worker's pipe, then wait to be stopped."""
    fd = source.current().link.send.fd
    os.write(fd, struct.pack(">I", len(body) if size is None else size) + body)
    time.sleep(30)


def _ask(*calls: tuple[str, Any]) -> Any:
    """Send model requests as forged by the worker; each ``("ok", handle or answer text)`` or
    ``(error kind, message)``, in order (plain data: a probe's result crosses the pipe too)."""
    link = source.current().link

    async def main() -> list:
        out = []
        for op, payload in calls:
            try:
                answer = await link.call(op, payload)
                out.append(("ok", answer["handle"] if isinstance(answer, dict) else answer.text))
            except SpellError as exc:
                out.append((exc.kind, exc.message))
        return out

    return asyncio.run(main())


class _Payload:
    """A pickle that, read by the ordinary unpickler, runs code in the reader's process."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> Any:
        return (os.mkdir, (str(self.marker),))


# -- what the parent reads ------------------------------------------------------------------------

@pytest.mark.parametrize("tag", ["ok", "out", "model"])
def test_a_pickle_that_runs_code_is_refused_and_runs_nothing(monkeypatch, tmp_path, tag):
    marker = tmp_path / "pwned"
    runtime = _runtime()
    body = pickle.dumps((tag, _Payload(marker)))
    with pytest.raises(SpellError) as err:
        _probe_run(monkeypatch, runtime, lambda: _raw(body))
    assert err.value.kind == "internal" and "sent a message the runtime does not accept" in err.value.message
    assert not marker.exists()  # os.mkdir never ran in the parent (nor could the worker, confined, do it)
    _still_serves(runtime)


@pytest.mark.parametrize("body", [
    b"not a pickle at all",
    pickle.dumps(("ok",) + (1,)) [:-3],                      # cut short
    b"\x80\x04cbuiltins\neval\n(S'1+1'\ntR.",                # GLOBAL + REDUCE, protocol 0 style
    pickle.dumps(("ok", {1, 2}.__class__)),                  # a class, by reference
    pickle.dumps(("frobnicate", 1)),                         # a tag no worker sends
    pickle.dumps(("error", {"kind": 3, "message": "x"})),    # an error that is not one
    pickle.dumps(("error", {"kind": "x", "message": "m", "stack": [("a", "b", "c")]})),
    pickle.dumps(("model", "not an id", "request", {})),
], ids=["garbage", "truncated", "global-reduce", "class", "tag", "error-kind", "error-stack", "model-id"])
def test_a_malformed_message_stops_the_worker_cleanly(monkeypatch, body):
    runtime = _runtime()
    with pytest.raises(SpellError) as err:
        _probe_run(monkeypatch, runtime, lambda: _raw(body))
    assert err.value.kind == "internal", err.value
    _still_serves(runtime)


def test_a_result_with_a_cycle_or_too_deep_is_refused(monkeypatch):
    runtime = _runtime()

    def cycle() -> Any:
        items: list = []
        items.append(items)
        return items

    def deep() -> Any:
        value: Any = "x"
        for _ in range(300):  # deeper than any result (and than wire.MAX_DEPTH), still picklable
            value = [value]
        return value

    for probe in (cycle, deep):
        with pytest.raises(SpellError) as err:
            _probe_run(monkeypatch, runtime, probe)
        assert err.value.kind == "internal"
    _still_serves(runtime)


def test_a_huge_message_is_refused_from_its_header(monkeypatch):
    runtime = Runtime(policy=Policy(max_memory=64 << 20), config=Settings(env={}), model="test")
    for size in (0xFFFF_FFFF, 100 << 20):  # 4 GiB, and more than a 64 MB spell could produce
        started = time.monotonic()
        with pytest.raises(SpellError) as err:
            _probe_run(monkeypatch, runtime, lambda size=size: _raw(b"x" * 1000, size))
        assert err.value.kind == "internal"
        assert time.monotonic() - started < 10  # refused at once, not after waiting for the body
    _still_serves(runtime)


# -- what the parent does for a worker: the run's own policy ---------------------------------------

def _resolve(name: Any, **extra: Any) -> tuple[str, Any]:
    return ("resolve", {"model": name, **extra})


def test_a_provider_the_operator_did_not_enable_is_refused_whatever_the_worker_claims(monkeypatch):
    runtime = _runtime()
    out = _probe_run(monkeypatch, runtime, lambda: _ask(
        # the worker names the model as if the operator had chosen it: only names travel
        _resolve("openai:gpt-4o", operator_models=["openai:gpt-4o"]),
        _resolve(["test", "anthropic:claude-3-5-haiku-latest"]),
        _resolve("ollama:llama3"),
        _resolve({"not": "a name"}),
        _resolve("test"),
    ))
    assert [kind for kind, _ in out] == ["permission_denied", "permission_denied", "permission_denied",
                                         "invalid_argument", "ok"], out
    assert "not enabled for spells" in out[0][1]


def _request(handle: Any, **parts: Any) -> tuple[str, Any]:
    payload = {"handle": handle, "messages": [_user("hi")], "settings": {}, "params": None}
    payload.update(parts)
    return ("request", payload)


def _user(text: str) -> dict:
    return {"kind": "request", "parts": [{"part_kind": "user-prompt", "content": text}]}


def test_forged_requests_are_refused_and_the_next_good_one_is_served(monkeypatch):
    runtime = _runtime(max_prompt=1000)
    image = {"kind": "request", "parts": [{"part_kind": "user-prompt", "content": [
        "describe", {"kind": "image-url", "url": "http://169.254.169.254/latest/meta-data/"}]}]}
    uploaded = {"kind": "request", "parts": [{"part_kind": "user-prompt", "content": [
        "summarise", {"kind": "uploaded-file", "file_id": "file-abc123", "provider_name": "openai"}]}]}

    def probe() -> Any:
        handle = _ask(_resolve("test"))[0][1]
        return _ask(
            _request(999),                                             # never resolved
            _request(-1),
            _request(handle, messages=[{"kind": "request", "parts": "nope"}]),
            _request(handle, messages=[image]),                        # the parent would fetch it
            _request(handle, messages=[uploaded]),                     # a file in the operator's account
            _request(handle, messages=[_user("x" * 5000)]),            # over max_prompt
            _request(handle, settings={"extra_headers": {"Authorization": "Bearer stolen"}}),
            _request(handle, settings={"extra_body": {"model": "gpt-4o"}}),
            _request(handle, settings={"temperature": "hot"}),
            _request(handle, params={"native_tools": [{"kind": "web_search"}]}),
            ("frobnicate", {}),
            _request(handle),
        )

    out = _probe_run(monkeypatch, runtime, probe)
    kinds = [kind for kind, _ in out]
    assert kinds == ["permission_denied", "permission_denied", "invalid_argument", "permission_denied",
                     "permission_denied", "limit_exceeded", "permission_denied", "permission_denied",
                     "invalid_argument", "permission_denied", "limit_exceeded", "ok"], out
    assert out[-1][1]  # the good request got the model's answer


def test_the_parent_counts_requests_itself(monkeypatch):
    """A worker that skips its own count (the bridge's) still gets no more than max_llm_calls."""
    runtime = _runtime(max_llm_calls=3)

    def probe() -> Any:
        handle = _ask(_resolve("test"))[0][1]
        return _ask(*[_request(handle) for _ in range(5)])

    kinds = [kind for kind, _ in _probe_run(monkeypatch, runtime, probe)]
    assert kinds == ["ok", "ok", "ok", "limit_exceeded", "limit_exceeded"]


def test_the_parent_caps_requests_in_flight(monkeypatch):
    """Requests to a server that never answers stay in flight in the parent: no more than max_concurrent."""
    from llmspell.config import ProviderSettings

    with socket.socket() as silent:  # accepts connections (the kernel's backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
        settings = Settings(env={}, providers={"silent": ProviderSettings("silent", url, None, "openai-compatible")})
        runtime = Runtime(policy=Policy(max_concurrent=2), config=settings, model="test")

        def probe() -> Any:
            link = source.current().link

            async def main() -> list:
                handle = (await link.call("resolve", {"model": "silent:m"}))["handle"]
                queues = [link.open("request", _request(handle)[1])[1] for _ in range(3)]
                done, _ = await asyncio.wait([asyncio.ensure_future(q.get()) for q in queues], timeout=2)
                return sorted(task.result()[0] for task in done)

            return asyncio.run(main())

        assert _probe_run(monkeypatch, runtime, probe) == ["fail"]  # the third; two still wait for the server
        _still_serves(runtime)


def test_output_past_the_limit_is_stopped_by_the_parent(monkeypatch):
    """A worker that no longer counts its output (the VM's check is gone) is stopped by the parent."""
    printed: list[str] = []
    runtime = Runtime(policy=Policy(max_output=1000), config=Settings(env={}), model="test", output=printed.append)

    def probe() -> None:
        send = source.current().link.send
        for _ in range(4000):
            send(("out", "x" * 1000))

    with pytest.raises(SpellError) as err:
        _probe_run(monkeypatch, runtime, probe)
    assert err.value.kind == "internal"
    assert sum(map(len, printed)) <= 2 * 1000 + (1 << 20)
    _still_serves(runtime)
