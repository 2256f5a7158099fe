"""The road of one bridge call, from the script's arguments to its result.

Every call a spell makes to a bridge method, in every language, sync or
async, takes this road and no other: interceptors' ``before`` → the run's
bridge-call budget → the policy (``allowed``) → binding and validation
(``MethodSpec.bind``) → the method → the result shaped as ScriptValues
(``plain``) → host exceptions mapped to the API's kinds (``host_error``) →
interceptors' ``after``.  An engine only converts values in and out and
turns an error into its language's failure.

Why one module: a hook, an event, a trace span or a limit added anywhere
else would miss some calls (Lua's synchronous methods used to have their
own copy of the fast path).  Here the fast path is written once, built per
method and run (:func:`sync_caller`), specialised by arity because it is the
bridge-call hot path; with an :class:`Interceptor` installed the run gets the
intercepted path instead, so interceptors cost nothing when there are none.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from .bridges.base import JAVASCRIPT, LUA, NEUTRAL, TENGO, Dialect
from .errors import SpellError, host_error

if TYPE_CHECKING:
    from .bridges.base import Bridge, MethodSpec
    from .host import SpellRun

#: Results that cross to every engine as they are.
SCALARS = frozenset({str, int, float, bool, type(None)})
_LANGUAGES = {LUA: "lua", JAVASCRIPT: "javascript", TENGO: "tengo"}
_NONE = object()


class Call:
    """One bridge call as interceptors see it.

    ``args`` are the script's arguments as ScriptValues, before validation
    (an interceptor's ``before`` may replace them); once the call is over,
    ``result`` or ``error`` (a :class:`SpellError`) says how it ended and
    ``duration`` how long the method took, in seconds.  ``observed`` calls
    already ran inside the VM (JavaScript's ``json`` twin, see
    js_prelude.js): they are reported, and cannot be refused or changed.
    """

    __slots__ = ("spec", "bridge", "args", "language", "run", "result", "error", "duration", "observed")

    def __init__(self, spec: MethodSpec, bridge: Bridge, args: list[Any], language: str | None,
                 run: SpellRun, observed: bool = False) -> None:
        self.spec, self.bridge, self.args, self.language, self.run = spec, bridge, args, language, run
        self.result: Any = None
        self.error: SpellError | None = None
        self.duration = 0.0
        self.observed = observed

    @property
    def qualname(self) -> str:
        """``bridge.method``, e.g. ``tools.call`` or ``llm.complete``."""
        return self.spec.qualname

    @property
    def is_async(self) -> bool:
        return self.spec.is_async

    def __repr__(self) -> str:
        outcome = f"error={self.error.kind}" if self.error is not None else f"result={self.result!r}"
        return f"<Call {self.qualname}({self.args!r}) {self.language} {outcome}>"


class Interceptor:
    """What attaches at the one call path: hooks, events, trace spans, metrics.

    Subclass it and override either method; install it with
    ``Runtime(interceptors=[...])`` or ``Runtime.add_interceptor``.  Both run
    for every bridge call of every run, in every language:

    - ``before(call)`` before the budget and the policy are checked.  It may
      replace ``call.args``, or refuse the call by raising a SpellError: the
      spell gets that error as the call's own.
    - ``after(call)`` once the call is over, refused or not, for each
      interceptor whose ``before`` returned (in reverse order, so an earlier
      interceptor sees what a later one refused).  It may replace
      ``call.result``, or raise a SpellError that the spell gets instead.

    For an async call (``call.is_async``) either may return an awaitable,
    which is awaited; a synchronous call cannot wait.  Any other exception
    is a bug: the spell sees an ``internal`` error.  In process isolation
    the interceptors run in the spell's worker (a fork of the caller).
    """

    def before(self, call: Call) -> Any:  # noqa: B027 - an extension point: empty by default
        """Called as the call starts."""

    def after(self, call: Call) -> Any:  # noqa: B027
        """Called as the call ends."""


# -- budget and policy ---------------------------------------------------------------
def allowed(run: SpellRun, spec: MethodSpec) -> bool:
    """May the spell call this method at all (not disabled by the policy)?"""
    verdict = run._allowed.get(spec)
    if verdict is None:
        verdict = run._allowed[spec] = _check_allowed(run, spec)
    return verdict is True


def _check_allowed(run: SpellRun, spec: MethodSpec) -> Any:
    """``True``, or the permission error for a method the policy disabled."""
    check = getattr(run.policy, "check_builtin", None)
    try:
        if check is not None:
            check(spec.qualname)
    except SpellError as exc:
        return exc
    return True


def _enter(run: SpellRun, spec: MethodSpec) -> None:
    """Take one call from the budget, and check the policy."""
    if not next(run.budget, False):
        raise calls_error(run, spec)
    if run._allowed.get(spec) is not True and not allowed(run, spec):
        raise run._allowed[spec]


def calls_error(run: SpellRun, spec: MethodSpec) -> SpellError:
    return SpellError("limit_exceeded",
                      f"{spec.qualname}: more than {run.limits.max_bridge_calls} bridge calls in one run",
                      hint="raise it with the policy's max_bridge_calls")


# -- results and errors --------------------------------------------------------------
def plain(value: Any) -> Any:
    """Bridge results as ScriptValues: declared result models become tables."""
    if isinstance(value, BaseModel):
        return value.model_dump()
    if isinstance(value, list) and value and isinstance(value[0], BaseModel):
        return [v.model_dump() if isinstance(v, BaseModel) else v for v in value]
    return value


def internal_error(where: str, exc: BaseException) -> SpellError:
    """A host exception in ``where`` (a bridge method), reported as data: one
    of the API's kinds and a message in the spell's terms (errors.host_error),
    the traceback only in the host's own debug log."""
    return host_error(exc, where)


# -- the plain road ------------------------------------------------------------------
def call_sync(run: SpellRun, spec: MethodSpec, bridge: Bridge, args: list[Any], dialect: Dialect = NEUTRAL) -> Any:
    """A synchronous method, the general way: budget, policy, bind, call, shape."""
    _enter(run, spec)
    bound = spec.bind(args, dialect)
    try:
        result = spec.fn(bridge, *bound)
    except SpellError:
        raise
    except Exception as exc:  # a bug on our side must not show a traceback to the spell
        raise internal_error(spec.qualname, exc) from None
    return result if type(result) in SCALARS else plain(result)


async def _call_async(run: SpellRun, spec: MethodSpec, bridge: Bridge, args: list[Any], dialect: Dialect) -> Any:
    if not spec.is_async:
        return call_sync(run, spec, bridge, args, dialect)
    _enter(run, spec)
    bound = spec.bind(args, dialect)
    if run._semaphore is None and run.limits.max_concurrent:
        run._semaphore = asyncio.Semaphore(run.limits.max_concurrent)
    if _nesting.get() >= MAX_NESTING or run._in_spell >= MAX_WAITING:
        raise nesting_error(run, spec)
    slot = _Slot(run)
    token = _slot.set(slot)
    try:
        if slot.semaphore is not None:
            await slot.semaphore.acquire()
            slot.held = True
        return plain(await spec.fn(bridge, *bound))
    except (SpellError, asyncio.CancelledError):
        raise
    except Exception as exc:
        raise internal_error(spec.qualname, exc) from None
    finally:
        slot.over()
        _slot.reset(token)


# -- waiting on the spell ------------------------------------------------------------
# An async call holds one of the run's max_concurrent slots while it works, and
# not while it waits on the spell's own code: a tool's handler, a hook, an
# event listener, a workflow step's function, on_chunk.  Held there, a handler
# whose own call needed a slot waited for one that only its caller could give
# back, and 16 such calls at once, or one nested 16 deep, hung until the run's
# timeout.  How deep calls nest inside the spell's functions is bounded
# instead (MAX_NESTING), so that a tool that calls itself ends at once with a
# limit error.

#: Bridge calls made from inside a spell function the host called (a tool's handler, say), inside another
#: such call...: at most this deep.
MAX_NESTING = 64
#: Spell functions the host waits on at once, at most, for a new call to start.  JavaScript starts a
#: handler's calls from its VM's own loop, where their depth is not known: this bounds it there.
MAX_WAITING = 1024

#: The slot of the bridge call whose method runs in this context (None: not in one).
_slot: ContextVar[_Slot | None] = ContextVar("llmspell_call_slot", default=None)
#: How many spell functions the host called this context runs inside.
_nesting: ContextVar[int] = ContextVar("llmspell_call_nesting", default=0)


def nesting_error(run: SpellRun, spec: MethodSpec) -> SpellError:
    if run._in_spell >= MAX_WAITING:
        what = f"more than {MAX_WAITING} of the spell's functions (tool handlers, hooks, listeners, step " \
               "functions) wait on bridge calls at once"
    else:
        what = f"bridge calls made from the spell's own functions (tool handlers, hooks, listeners, step " \
               f"functions) nest more than {MAX_NESTING} deep"
    return SpellError("limit_exceeded", f"{spec.qualname}: {what}",
                      hint="does a tool's handler call that tool again, or a listener emit its own event?",
                      run_limit=True)


class _Slot:
    """One async call's hold on the run's ``max_concurrent``: ``held`` while
    the call works; given back while ``away`` (how many spell functions the
    call waits on now; a workflow's parallel steps wait on several) is not
    zero, and taken again, in turn, once the last returns."""

    __slots__ = ("run", "semaphore", "held", "away", "done")

    def __init__(self, run: SpellRun) -> None:
        self.run, self.semaphore = run, run._semaphore
        self.held, self.away, self.done = False, 0, False

    def leave(self) -> None:
        self.away += 1
        self.run._in_spell += 1
        if self.held and self.away == 1:
            self.held = False
            self.semaphore.release()

    async def back(self) -> None:
        self.away -= 1
        self.run._in_spell -= 1
        if self.away or self.held or self.done or self.semaphore is None:
            return
        await self.semaphore.acquire()
        if self.held or self.away or self.done:  # taken meanwhile, or away again: not ours to keep
            self.semaphore.release()
        else:
            self.held = True

    def over(self) -> None:
        self.done = True
        if self.held:
            self.held = False
            self.semaphore.release()


async def in_spell(fn: Callable[..., Awaitable[Any]], args: tuple) -> Any:
    """``fn(*args)``: the host awaiting a function of the spell (values.ScriptFunction).  The bridge call
    that waits on it gives back its slot meanwhile, and calls the function makes are one deeper."""
    slot = _slot.get()
    if slot is None:
        return await fn(*args)
    slot.leave()
    token = _nesting.set(_nesting.get() + 1)
    cancelled = False
    try:
        return await fn(*args)
    except asyncio.CancelledError:
        cancelled = True
        raise
    finally:
        _nesting.reset(token)
        if cancelled:
            slot.away -= 1
            slot.run._in_spell -= 1
        else:
            await slot.back()


async def call_async(run: SpellRun, spec: MethodSpec, bridge: Bridge, args: list[Any],
                     dialect: Dialect = NEUTRAL) -> Any:
    """Any method, for an engine that can wait: async methods are awaited
    under the run's concurrency limit."""
    if run.interceptors:
        return await _intercepted_async(run, spec, bridge, args, dialect)
    return await _call_async(run, spec, bridge, args, dialect)


# -- the intercepted road ------------------------------------------------------------
def _as_spell_error(exc: BaseException, spec: MethodSpec) -> SpellError:
    return exc if isinstance(exc, SpellError) else internal_error(spec.qualname, exc)


def _no_wait(value: Any) -> None:
    """An interceptor's answer on a synchronous call: it cannot be awaited."""
    if value is not None and inspect.isawaitable(value):
        if inspect.iscoroutine(value):
            value.close()
        raise TypeError("an interceptor returned an awaitable for a synchronous bridge call")


def call_intercepted(run: SpellRun, spec: MethodSpec, bridge: Bridge, args: list[Any],
                     dialect: Dialect = NEUTRAL, language: str | None = None) -> Any:
    """A synchronous method with the run's interceptors around it."""
    call = Call(spec, bridge, args, language or _LANGUAGES.get(dialect), run)
    entered: list[Interceptor] = []
    try:
        for i in run.interceptors:
            answer = i.before(call)
            if answer is not None:
                _no_wait(answer)
            entered.append(i)
        started = time.perf_counter()
        try:
            call.result = call_sync(run, spec, bridge, call.args, dialect)
        finally:
            call.duration = time.perf_counter() - started
    except Exception as exc:
        call.error = _as_spell_error(exc, spec)
    for i in reversed(entered):
        try:
            answer = i.after(call)
            if answer is not None:
                _no_wait(answer)
        except Exception as exc:
            call.error = _as_spell_error(exc, spec)
    if call.error is not None:
        raise call.error
    return call.result


async def _intercepted_async(run: SpellRun, spec: MethodSpec, bridge: Bridge, args: list[Any],
                             dialect: Dialect) -> Any:
    call = Call(spec, bridge, args, _LANGUAGES.get(dialect), run)
    entered: list[Interceptor] = []
    cancelled = False
    try:
        for i in run.interceptors:
            await _maybe_wait(i.before(call), spec)
            entered.append(i)
        started = time.perf_counter()
        try:
            call.result = await _call_async(run, spec, bridge, call.args, dialect)
        finally:
            call.duration = time.perf_counter() - started
    except asyncio.CancelledError:
        call.error, cancelled = SpellError("cancelled", f"{spec.qualname}: the call was cancelled"), True
    except Exception as exc:
        call.error = _as_spell_error(exc, spec)
    for i in reversed(entered):
        try:
            if cancelled:  # the task is ending: report, but wait for nothing
                _no_wait(i.after(call))
            else:
                await _maybe_wait(i.after(call), spec)
        except Exception as exc:
            call.error = _as_spell_error(exc, spec)
    if cancelled:
        raise asyncio.CancelledError
    if call.error is not None:
        raise call.error
    return call.result


async def _maybe_wait(value: Any, spec: MethodSpec) -> None:
    if value is not None and inspect.isawaitable(value):
        await value


def observed(run: SpellRun, spec: MethodSpec, bridge: Bridge, args: list[Any], dialect: Dialect,
             result: Any, error: SpellError | None, duration: float) -> None:
    """Report to the interceptors a call that already ran inside the VM (see
    :class:`Call`); what they raise cannot change it and is not the spell's."""
    call = Call(spec, bridge, args, _LANGUAGES.get(dialect), run, observed=True)
    call.result, call.error, call.duration = result, error, duration
    entered: list[Interceptor] = []
    for i in run.interceptors:
        try:
            _no_wait(i.before(call))
        except Exception:  # noqa: BLE001, S112 - nothing to refuse any more
            continue
        entered.append(i)
    for i in reversed(entered):
        try:
            _no_wait(i.after(call))
        except Exception:  # noqa: BLE001, S112
            continue


# -- the fast path, built once per method and run -----------------------------------------
def sync_caller(
    run: SpellRun,
    spec: MethodSpec,
    bridge: Bridge,
    dialect: Dialect = NEUTRAL,
    *,
    to_python: Callable[[Any], Any] | None = None,
    to_script: Callable[[Any], Any] | None = None,
    fail: Callable[[BaseException], Any] | None = None,
    receiver: Callable[[tuple], tuple] | None = None,
    safe: frozenset = SCALARS,
    text: Callable[[str], str] | None = None,
) -> Callable[..., Any]:
    """``call(*args)``: a synchronous method as an engine calls it, made once
    per method and run.

    The engine's hooks: ``to_python`` converts each argument and
    ``to_script`` a result that is not in ``safe`` (the types its VM takes
    as they are); ``fail(exc)`` is what the call returns to fail (without it,
    the error is raised); ``receiver(args)`` drops a receiver the language
    passes first (Lua's ``obj:method()``); ``text(s)`` is what a str argument
    that is not ASCII becomes on the fast path (Lua's strings arrive as
    Latin-1 bytes: see engines/lua.py; ``to_python`` does the same on the
    general path).

    Without interceptors, a call whose arguments are all scalars of the
    declared types skips conversion and the general validation path, inline:
    this is the bridge-call hot path of every engine, specialised by arity.
    """
    intercepted = bool(run.interceptors)
    qualname, language = spec.qualname, _LANGUAGES.get(dialect)
    if intercepted:
        def invoke(run: SpellRun, spec: MethodSpec, bridge: Bridge, args: list[Any], dialect: Dialect) -> Any:
            return call_intercepted(run, spec, bridge, args, dialect, language)
    else:
        invoke = call_sync

    def error(exc: BaseException) -> Any:
        if fail is not None:
            return fail(exc)
        raise _as_spell_error(exc, spec) from None

    def general(args: tuple) -> Any:
        if receiver is not None:
            args = receiver(args)
        try:
            script_args = [to_python(a) for a in args] if to_python is not None else list(args)
            result = invoke(run, spec, bridge, script_args, dialect)
            return result if to_script is None else to_script(result)
        except Exception as exc:
            return error(exc)

    fast = spec._fast
    # A disabled method always takes the general path, which reports it; so
    # does every call when interceptors are installed.
    nfast = len(fast) if fast is not None and not intercepted and allowed(run, spec) else -1
    if nfast < 0 or nfast > 2:
        def call_general(*args: Any) -> Any:
            return general(args)

        call_general.__qualname__ = qualname
        return call_general

    def off(args: tuple | None, result: Any = None, exc: BaseException | None = None) -> Any:
        """Everything off the hot path, in one place: the hot functions below
        then carry few closure cells, and each cell is copied on every call.
        ``args``: take the general path; else fail with ``exc``, or shape a
        result that is not a scalar."""
        if args is not None:
            return general(args)
        try:
            if exc is None:
                result = plain(result)
                return result if to_script is None else to_script(result)
        except Exception as conversion:
            exc = conversion
        return error(exc)

    # Out of budget, next() is false and the general path reports it.  Types
    # are tested with `is` against the declared one first: a set lookup
    # costs a hundred machine instructions more, on a path of a few thousand.
    budget = run.budget
    ret = spec.returns if spec.returns in safe else _NONE
    method = spec.fn.__get__(bridge)
    if nfast == 0:
        def call(*args: Any) -> Any:
            if not args and next(budget, False):
                try:
                    result = method()
                except Exception as exc:
                    return off(None, exc=exc)
                if type(result) is ret:
                    return result
                return result if type(result) in safe else off(None, result)
            return off(args)
    elif nfast == 1:
        t0, a0 = fast[0], spec.params[0].annotation
        s0 = text is not None and str in t0  # only then is a string looked at

        def call(a: Any = _NONE, *rest: Any) -> Any:
            if (type(a) is a0 or type(a) in t0) and not rest and next(budget, False):
                if s0 and type(a) is str and not a.isascii():
                    a = text(a)
                try:
                    result = method(a)
                except Exception as exc:
                    return off(None, exc=exc)
                if type(result) is ret:
                    return result
                return result if type(result) in safe else off(None, result)
            return off((a, *rest) if a is not _NONE else rest)
    else:
        t0, t1 = fast
        s0, s1 = text is not None and str in t0, text is not None and str in t1

        def call(a: Any = _NONE, b: Any = _NONE, *rest: Any) -> Any:
            if type(a) in t0 and type(b) in t1 and not rest and next(budget, False):
                if s0 and type(a) is str and not a.isascii():
                    a = text(a)
                if s1 and type(b) is str and not b.isascii():
                    b = text(b)
                try:
                    result = method(a, b)
                except Exception as exc:
                    return off(None, exc=exc)
                if type(result) is ret:
                    return result
                return result if type(result) in safe else off(None, result)
            return off(tuple(x for x in (a, b) if x is not _NONE) + rest)

    call.__qualname__ = qualname
    return call


def interceptors_of(value: Sequence[Interceptor] | None) -> tuple[Interceptor, ...]:
    """Check what an embedder gives as interceptors."""
    out = tuple(value or ())
    for i in out:
        if not isinstance(i, Interceptor):
            raise SpellError("invalid_argument", f"an interceptor must be an llmspell.Interceptor, "
                             f"not {type(i).__name__}", hint="subclass llmspell.Interceptor")
    return out
