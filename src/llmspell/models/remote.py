"""A spell's worker's models: pydantic-ai models whose requests the parent process serves.

The worker runs untrusted spell code, so it holds no API key, and its memory
limit is the spell's own, so it loads no model.  When this module is
installed (:func:`install`, by sandbox/worker.py before the spell runs), the
worker's model source (models/source.py) is :class:`RemoteSource`: resolving
a chain asks the parent (which checks the run's policy and resolves with its
own settings) and gives back the chain's links with :class:`RemoteModel`\\ s,
stand-ins that carry the real model's name and profile and forward
``request`` and ``request_stream`` over the worker's pipe to
:mod:`.gateway`.  Everything above them (pydantic-ai's ``direct`` calls,
models/calls.py's response dict and error mapping, later an agent loop) runs
in the worker as it would with the real models.

A stream arrives as it is produced: the parent forwards each part start and
delta, and :class:`_RemoteStream` replays them into its own parts manager,
so pydantic-ai's own part-end and final-result events are made here as for
any model.  Leaving a stream early, or cancelling the task that waits on a
request, sends a cancel: the parent stops the real request (the local model
leaves its generation loop, an HTTP stream is closed).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import pickle
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from llmspell.errors import SpellError

if TYPE_CHECKING:
    from llmspell.config import Settings
    from llmspell.models.resolve import ResolvedModel


def _lost() -> SpellError:
    return SpellError("internal", "the connection to the process that serves models was lost")


class ParentLink:
    """The worker's end of the model conversation: numbered requests and their replies.

    ``send`` writes one message to the parent (whole, blocking: the worker's
    own pipe writer); replies are read from ``fd`` by the running event loop."""

    def __init__(self, send: Callable[[Any], None], fd: int) -> None:
        self.send = send
        self._fd = fd
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Queue] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._frames: Any = None
        self._closed = False

    def _attach(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is loop:
            return
        from llmspell.sandbox.wire import FrameBuffer

        os.set_blocking(self._fd, False)
        self._loop, self._frames = loop, FrameBuffer()
        loop.add_reader(self._fd, self._readable)

    def _readable(self) -> None:
        try:
            data = os.read(self._fd, 1 << 16)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        try:
            replies = [pickle.loads(body) for body in self._frames.feed(data)] if data else None  # trusted
        except Exception:  # noqa: BLE001 -- nothing more can be read from this pipe
            replies = None
        if replies is None:
            assert self._loop is not None
            self._loop.remove_reader(self._fd)
            self._closed = True
            for queue in self._waiting.values():
                queue.put_nowait(("fail", _lost()))
            return
        for tag, rid, value in replies:
            queue = self._waiting.get(rid)
            if queue is not None:
                queue.put_nowait((tag, value))

    def open(self, op: str, payload: Any) -> tuple[int, asyncio.Queue]:
        """Send one request; its replies arrive on the returned queue as ``(tag, value)``."""
        self._attach()
        if self._closed:
            raise _lost()
        rid = next(self._ids)
        queue: asyncio.Queue = asyncio.Queue()
        self._waiting[rid] = queue
        self.send(("model", rid, op, payload))
        return rid, queue

    def done(self, rid: int, *, cancel: bool) -> None:
        """Forget request ``rid``; ``cancel``: tell the parent to stop serving it."""
        self._waiting.pop(rid, None)
        if cancel and not self._closed:
            self.send(("model", rid, "cancel", None))

    async def call(self, op: str, payload: Any) -> Any:
        """One request and its one answer (a failure raises the parent's SpellError)."""
        rid, queue = self.open(op, payload)
        finished = False
        try:
            tag, value = await queue.get()
            finished = True
        finally:
            self.done(rid, cancel=not finished)
        return _result(tag, value)


def _result(tag: str, value: Any) -> Any:
    if tag == "fail":
        raise value if isinstance(value, SpellError) else _error(value)
    return value


def _error(state: dict) -> SpellError:
    return SpellError(state["kind"], state["message"], hint=state.get("hint"), run_limit=state.get("run_limit", False))


class RemoteSource:
    """Chains resolved by the parent, served by the parent (see the module docstring)."""

    def __init__(self, link: ParentLink) -> None:
        self.link = link
        #: Each chain asked for, resolved or being resolved: the requests that start at once (a parallel
        #: workflow's hundred agent steps) wait for one answer from the parent instead of asking a hundred times.
        self._chains: dict[str, asyncio.Future] = {}

    async def resolve(self, name: str | list[str] | None, settings: Settings,
                      operator_models: tuple = ()) -> tuple[list[ResolvedModel], Any]:
        import json

        key = json.dumps(name, default=str)
        found = self._chains.get(key)
        if found is None:
            found = self._chains[key] = asyncio.ensure_future(self._ask(name))

            def forget_failure(done: asyncio.Future) -> None:
                # A failed answer is not kept: the next request asks again (and gets the parent's error again).
                if done.cancelled() or done.exception() is not None:
                    self._chains.pop(key, None)

            found.add_done_callback(forget_failure)
        return await asyncio.shield(found)

    async def warm(self, name: str | list[str] | None, settings: Settings, operator_models: tuple = ()) -> None:
        """Ask the parent for ``name``'s chain now: requests that start at once later find it here."""
        try:
            await self.resolve(name, settings, operator_models)
        except SpellError:
            pass  # not kept: the request that needs it asks again and reports it

    async def _ask(self, name: str | list[str] | None) -> tuple[list[ResolvedModel], Any]:
        from llmspell.models.resolve import ResolvedModel

        # Only the names travel: the parent applies the run's own operator models and policy.
        answer = await self.link.call("resolve", {"model": name})
        chain = [ResolvedModel(link["name"], link["provider"], self._model(link), link["base_url"],
                               tuple(link["key_env"])) for link in answer["links"]]
        model = chain[0].model if len(chain) == 1 else self._model(answer)
        return chain, model

    def _model(self, described: dict) -> Any:
        return remote_model_class()(self.link, described["handle"], described["model_name"], described["system"],
                                    described["profile"])


def install(send: Callable[[Any], None], fd: int) -> None:
    """Make this process's models the parent's (a worker, before its spell runs)."""
    from llmspell.models import source

    source.use(RemoteSource(ParentLink(send, fd)))


def _payload(handle: int, messages: list[Any], model_settings: Any, params: Any) -> dict:
    from pydantic_ai.messages import ModelMessagesTypeAdapter

    return {"handle": handle, "messages": ModelMessagesTypeAdapter.dump_python(messages, mode="json"),
            "settings": dict(model_settings or {}), "params": params_adapter().dump_python(params, mode="json")}


_PARAMS_ADAPTER: Any = None


def params_adapter() -> Any:
    """pydantic's adapter for ``ModelRequestParameters`` (built once: a schema takes milliseconds)."""
    global _PARAMS_ADAPTER
    if _PARAMS_ADAPTER is None:
        from pydantic import TypeAdapter
        from pydantic_ai.models import ModelRequestParameters

        _PARAMS_ADAPTER = TypeAdapter(ModelRequestParameters)
    return _PARAMS_ADAPTER


_RemoteModel: type | None = None


def remote_model_class() -> type:
    """The Model subclass, made on first use so that importing llmspell does not import pydantic-ai."""
    global _RemoteModel
    if _RemoteModel is not None:
        return _RemoteModel
    from pydantic_ai.messages import PartDeltaEvent, PartStartEvent
    from pydantic_ai.models import Model, StreamedResponse

    class RemoteModel(Model):
        """A model the parent process serves: this side only forwards."""

        def __init__(self, link: ParentLink, handle: int, name: str, system: str, profile: Any) -> None:
            super().__init__(profile=profile)
            self._link, self._handle, self._name, self._system = link, handle, name, system

        @property
        def model_name(self) -> str:
            return self._name

        @property
        def system(self) -> str:
            return self._system

        async def request(self, messages: list[Any], model_settings: Any, model_request_parameters: Any) -> Any:
            return await self._link.call("request", _payload(self._handle, messages, model_settings,
                                                             model_request_parameters))

        @asynccontextmanager
        async def request_stream(self, messages: list[Any], model_settings: Any, model_request_parameters: Any,
                                 run_context: Any = None) -> AsyncIterator[Any]:
            payload = _payload(self._handle, messages, model_settings, model_request_parameters)
            rid, queue = self._link.open("stream", payload)
            stream = None
            try:
                tag, value = await queue.get()  # the real stream is open, or failed to open
                start = _result(tag, value)
                stream = _RemoteStream(model_request_parameters=model_request_parameters, _queue=queue,
                                       _start=start)
                yield stream
            finally:
                self._link.done(rid, cancel=stream is None or stream._final is None)

    @dataclass
    class _RemoteStream(StreamedResponse):
        _queue: asyncio.Queue = field(repr=False, default=None)  # type: ignore[assignment]
        _start: dict = field(default_factory=dict)
        _final: Any = None
        _index: dict = field(default_factory=dict, repr=False)
        _parts: dict = field(default_factory=dict, repr=False)

        async def _get_event_iterator(self) -> AsyncIterator[Any]:
            while True:
                tag, value = await self._queue.get()
                if tag == "event":
                    yield self._replay(value)
                elif tag == "done":
                    self._final = value
                    self._usage = value.usage
                    self.finish_reason = value.finish_reason
                    self.provider_response_id = value.provider_response_id
                    self.provider_details = value.provider_details
                    self.failed_attempts = value.failed_attempts
                    return
                else:
                    _result(tag, value)
                    return

        def _replay(self, event: Any) -> Any:
            """The parent's event, applied to this stream's own parts."""
            if isinstance(event, PartStartEvent):
                self._parts[event.index] = event.part
                start = self._parts_manager.handle_part(vendor_part_id=event.index, part=event.part)
                self._index[event.index] = start.index
                return start
            assert isinstance(event, PartDeltaEvent)
            part = event.delta.apply(self._parts[event.index])
            self._parts[event.index] = part
            self._parts_manager.handle_part(vendor_part_id=event.index, part=part)
            return PartDeltaEvent(index=self._index[event.index], delta=event.delta)

        def get(self) -> Any:
            if self._final is not None and not self.cancelled:
                return self._final
            return super().get()

        async def close_stream(self) -> None:
            pass  # leaving request_stream's context sends the cancel

        @property
        def model_name(self) -> str:
            return self._start.get("model_name", "")

        @property
        def provider_name(self) -> str | None:
            return self._start.get("provider_name")

        @property
        def provider_url(self) -> str | None:
            return self._start.get("provider_url")

        @property
        def timestamp(self) -> datetime:
            return self._start.get("timestamp") or datetime.now(UTC)

    _RemoteModel = RemoteModel
    return _RemoteModel
