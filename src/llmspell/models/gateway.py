"""The parent's side of a worker's model requests: the real models, under the run's own policy.

A spell's worker holds no API key and loads no model (its memory limit is the
spell's alone); its models are :mod:`.remote` stand-ins that send each request
here, over the worker's pipe.  One :class:`ModelGateway` serves one run: it
resolves chains with the parent's settings and keys (so the local model loads
once per process, not once per run), makes the requests, and sends back
responses and stream events.

The worker is untrusted: a spell that broke out of its VM can send anything
on that pipe.  So nothing the worker says is taken on trust.  Messages arrive
as plain data (sandbox/wire.py); messages, settings and request parameters are
validated here (pydantic-ai's ``ModelMessagesTypeAdapter``, an allow-list of
settings, no provider-side tools, no file URLs the parent would fetch); the
run's policy is applied here again whatever the worker already checked: which
providers the spell may use (the chain is resolved with the run's own
operator models, never ones the worker names), ``max_prompt``,
``max_llm_calls`` and ``max_tokens`` (one :class:`~.usage.UsageAccount`) and
``max_concurrent`` requests in flight.  A bad request gets a clean error back
and the parent carries on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from llmspell.errors import SpellError
from llmspell.models.limits import check_prompt_size, message_texts
from llmspell.models.usage import UsageAccount

if TYPE_CHECKING:
    from llmspell.config import Settings
    from llmspell.models.resolve import ResolvedModel

log = logging.getLogger("llmspell.models")

#: Distinct model chains one run may ask to resolve (a spell names a handful).
MAX_CHAINS = 256
_NUMBER = (int, float)


def _number(low: float | None = None, high: float | None = None, *, whole: bool = False,
            above: float | None = None) -> Callable[[Any], bool]:
    def ok(value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, int if whole else _NUMBER):
            return False
        if not math.isfinite(value):
            return False
        return ((low is None or value >= low) and (high is None or value <= high)
                and (above is None or value > above))
    return ok


def _stops(value: Any) -> bool:
    return (isinstance(value, list) and len(value) <= 64
            and all(isinstance(s, str) and 0 < len(s) <= 1000 for s in value))


#: The model settings a worker may send, each with its check.  Anything else (``extra_headers``,
#: ``extra_body``, ``logit_bias``...) could reach past what a spell may ask a provider for.
SETTINGS: dict[str, Callable[[Any], bool]] = {
    "max_tokens": _number(1, 10_000_000, whole=True),
    "temperature": _number(0, 2),
    "top_p": _number(0, 1),
    "timeout": _number(above=0, high=86_400),
    "stop_sequences": _stops,
    "seed": _number(-(2**63), 2**63 - 1, whole=True),
    "presence_penalty": _number(-2, 2),
    "frequency_penalty": _number(-2, 2),
    "parallel_tool_calls": lambda v: isinstance(v, bool),
}


class ModelGateway:
    """Serves one run's model requests from its worker (see the module docstring)."""

    def __init__(self, settings: Settings, policy: Any, limits: Any, operator_models: tuple = ()) -> None:
        self.settings = settings
        self.policy = policy
        self.operator_models = operator_models
        self.account = UsageAccount(max_llm_calls=limits.max_llm_calls, max_tokens=limits.max_tokens)
        self.max_prompt = getattr(policy, "max_prompt", None)
        self.max_concurrent = limits.max_concurrent
        self._by_names: dict[str, dict] = {}
        #: handle -> (the chain it was resolved for, the model that serves it)
        self._models: list[tuple[list[ResolvedModel], Any]] = []
        self._tasks: dict[int, asyncio.Task] = {}

    # -- what the worker loop calls -----------------------------------------------------------------
    def handle(self, message: Any, send: Callable[[Any], None]) -> None:
        """Serve one ``("model", id, op, payload)`` message; replies go to ``send``.

        A message without a usable id cannot be answered: :class:`ValueError`, and the
        caller stops the worker.  Anything else wrong gets an error reply."""
        if len(message) != 4 or type(message[1]) is not int or type(message[2]) is not str:
            raise ValueError("a model message must be (\"model\", id, op, payload)")
        _, rid, op, payload = message
        if op == "cancel":
            task = self._tasks.get(rid)
            if task is not None:
                task.cancel()
            return
        if rid in self._tasks:
            raise ValueError(f"model request id {rid} is already in use")
        if op == "resolve":
            self._answer(rid, send, self._resolve, payload)
        elif op in ("request", "stream"):
            if self.max_concurrent and len(self._tasks) >= self.max_concurrent:
                send(("fail", rid, error_state(_refusal(f"more than {self.max_concurrent} model requests at once"))))
                return
            work = self._request if op == "request" else self._stream
            task = asyncio.ensure_future(self._serve(rid, send, work, payload))
            self._tasks[rid] = task
            task.add_done_callback(lambda _t, rid=rid: self._tasks.pop(rid, None))
        else:
            send(("fail", rid, error_state(_refusal(f"unknown model operation {op[:40]!r}"))))

    async def close(self) -> None:
        """Stop every request still being served (the run is over)."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- serving ------------------------------------------------------------------------------------
    def _answer(self, rid: int, send: Callable[[Any], None], work: Callable[[Any], Any], payload: Any) -> None:
        try:
            answer = work(payload)
        except SpellError as exc:
            send(("fail", rid, error_state(exc)))
        except Exception as exc:  # noqa: BLE001 -- the worker's answer, never the parent's failure
            log.debug("model operation failed in the parent", exc_info=True)
            from llmspell.errors import host_error

            send(("fail", rid, error_state(host_error(exc))))
        else:
            send(("done", rid, answer))

    async def _serve(self, rid: int, send: Callable[[Any], None], work: Any, payload: Any) -> None:
        try:
            await work(rid, send, payload)
        except SpellError as exc:
            send(("fail", rid, error_state(exc)))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 -- a request's failure is the worker's answer, never the parent's
            log.debug("model request failed in the parent", exc_info=True)
            from llmspell.errors import host_error

            send(("fail", rid, error_state(host_error(exc))))

    def _resolve(self, payload: Any) -> dict:
        name = payload.get("model") if isinstance(payload, dict) else None
        if not _names_ok(name):
            raise SpellError("invalid_argument", 'model must be a name like "openai:gpt-4o" or a list of them')
        key = json.dumps(name)
        if key in self._by_names:
            return self._by_names[key]
        if len(self._by_names) >= MAX_CHAINS:
            raise _refusal(f"more than {MAX_CHAINS} different model chains in one run")
        from llmspell.models.resolve import chain_model, resolve_chain

        # The run's own operator models, never any the worker names: that is what enables providers.
        chain = resolve_chain(name, self.settings, self.operator_models)
        links = []
        for link in chain:
            links.append({"handle": self._keep([link], link.model), "name": link.name, "provider": link.provider,
                          "base_url": link.base_url, "key_env": link.key_env, **_describe(link.model)})
        model = chain_model(chain)
        handle = links[0]["handle"] if len(chain) == 1 else self._keep(chain, model)
        # FallbackModel has no profile of its own: its stand-in shows the first link's.
        answer = {"handle": handle, "links": links, **_describe(model, chain[0].model)}
        self._by_names[key] = answer
        return answer

    def _keep(self, chain: list[ResolvedModel], model: Any) -> int:
        self._models.append((chain, model))
        return len(self._models) - 1

    def _checked(self, payload: Any) -> tuple[list[ResolvedModel], Any, list, dict, Any]:
        if not isinstance(payload, dict):
            raise SpellError("invalid_argument", "a model request must be a table of its parts")
        handle = payload.get("handle")
        if type(handle) is not int or not 0 <= handle < len(self._models):
            raise SpellError("permission_denied", "a model request for a model this run has not resolved")
        chain, model = self._models[handle]
        messages = _messages(payload.get("messages"))
        check_prompt_size("a model request", self.max_prompt, *message_texts(messages))
        settings = _settings(payload.get("settings"))
        params = _parameters(payload.get("params"))
        return chain, model, messages, settings, params

    async def _request(self, rid: int, send: Callable[[Any], None], payload: Any) -> None:
        chain, model, messages, settings, params = self._checked(payload)
        self.account.start_request("a model request")
        try:
            response = await model.request(messages, settings, params)
        except SpellError:
            raise
        except Exception as exc:  # noqa: BLE001 -- mapped here, with the run's policy, as in process
            raise self._mapped(exc, chain) from None
        self.account.add(response.usage)
        send(("done", rid, response))

    async def _stream(self, rid: int, send: Callable[[Any], None], payload: Any) -> None:
        from pydantic_ai.messages import PartDeltaEvent, PartStartEvent

        chain, model, messages, settings, params = self._checked(payload)
        self.account.start_request("a model request")
        try:
            async with model.request_stream(messages, settings, params) as streamed:
                send(("start", rid, {"model_name": streamed.model_name, "provider_name": streamed.provider_name,
                                     "provider_url": streamed.provider_url, "timestamp": streamed.timestamp}))
                async for event in streamed:
                    # Part ends and the final-result marker are made again by the worker's own stream.
                    if isinstance(event, PartStartEvent | PartDeltaEvent):
                        send(("event", rid, event))
            response = streamed.get()
        except SpellError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise self._mapped(exc, chain) from None
        self.account.add(response.usage)
        send(("done", rid, response))

    def _mapped(self, exc: BaseException, chain: list[ResolvedModel]) -> SpellError:
        from llmspell.models.errors import map_model_error

        return map_model_error(exc, chain, self.policy)


# -- checking what a worker sends --------------------------------------------------------------------

def _refusal(what: str) -> SpellError:
    return SpellError("limit_exceeded", f"refused by the runtime: {what}")


def _names_ok(name: Any, depth: int = 0) -> bool:
    if name is None or (isinstance(name, str) and len(name) <= 300):
        return depth == 0 or name is not None
    if isinstance(name, list | tuple) and depth < 4 and len(name) <= 32:
        return all(_names_ok(n, depth + 1) for n in name)
    return False


def _messages(data: Any) -> list:
    from pydantic import ValidationError
    from pydantic_ai.messages import FileUrl, ModelMessagesTypeAdapter, UploadedFile

    if not isinstance(data, list) or not data:
        raise SpellError("invalid_argument", "a model request needs a list of messages")
    try:
        messages = ModelMessagesTypeAdapter.validate_python(data)
    except ValidationError as exc:
        raise SpellError("invalid_argument", f"a model request's messages are not valid ({exc.error_count()} "
                         "errors)") from None
    for message in messages:
        for part in message.parts:
            content = getattr(part, "content", None)
            items = content if isinstance(content, list | tuple) else [content]
            if any(isinstance(item, FileUrl | UploadedFile) for item in items):
                # A URL the parent (or the provider's SDK) would fetch, out of reach of the spell's network
                # policy, or a file in the operator's account at the provider.
                raise SpellError("permission_denied", "a model request may not send file URLs for the runtime "
                                 "to fetch, nor name files uploaded to the provider; send the content itself")
    return messages


def _settings(data: Any) -> dict:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SpellError("invalid_argument", "a model request's settings must be a table")
    for key, value in data.items():
        check = SETTINGS.get(key) if isinstance(key, str) else None
        if check is None:
            raise SpellError("permission_denied", f"the model setting {str(key)[:40]!r} is not available to spells")
        if not check(value):
            raise SpellError("invalid_argument", f"the model setting {key!r} has a value it cannot have")
    return dict(data)


def _parameters(data: Any) -> Any:
    from pydantic import ValidationError
    from pydantic_ai.models import ModelRequestParameters

    from llmspell.models.remote import params_adapter

    if data is None:
        return ModelRequestParameters()
    try:
        params = params_adapter().validate_python(data)
    except ValidationError as exc:
        raise SpellError("invalid_argument", f"a model request's parameters are not valid ({exc.error_count()} "
                         "errors)") from None
    if params.native_tools:
        # Provider-side tools (web search, code execution) would reach past the spell's network policy.
        raise SpellError("permission_denied", "provider-side tools are not available to spells")
    return params


def _describe(model: Any, profiled: Any = None) -> dict:
    """What the worker's stand-in shows of a model: its names and its profile (``profiled``'s)."""
    return {"model_name": model.model_name, "system": model.system, "profile": (profiled or model).profile}


def error_state(exc: SpellError) -> dict:
    """A SpellError as data for the worker (the trusted direction: the worker rebuilds it)."""
    return {"kind": exc.kind, "message": exc.message, "hint": exc.hint, "run_limit": exc.run_limit}
