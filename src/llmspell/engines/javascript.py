"""JavaScript spells, on QuickJS through ``quickjs-ng``.

The spell body runs as the body of an async function, so top-level ``await``
and ``return`` work.  QuickJS may not call into Python while its time limit is
on, so every bridge call goes through the Promise queue of ``js_prelude.js``:
the host drains queued calls as one JSON string per round, runs them
concurrently on the event loop, and settles the promises in one call.  The
time limit is re-armed with the time left before every entry into the VM.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import secrets
from importlib import resources
from time import monotonic
from typing import TYPE_CHECKING, Any

from .. import dispatch, values
from ..bridges.base import JAVASCRIPT
from ..errors import Frame, SpellError
from ..host import is_run_limit
from ..values import HostHandle, ScriptFunction, ValueMaker, make
from ..wellformed import well_formed_data
from ._error_values import error_value, from_error_value
from ._limits import before_deadline, instructions_error
from .base import Engine, ScriptVM
from .js_check import CHECK_MEMORY, CHECK_SECONDS, compile_spell

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    from ..bridges.base import Bridge, MethodSpec
    from ..host import SpellRun

_PRELUDE = resources.files(__package__).joinpath("js_prelude.js").read_text()
_FRAME = re.compile(r"^\s*at (?:(?P<name>[^\s(]+) )?\(?<input>:(?P<line>\d+)(?::(?P<col>\d+))?\)?")
#: The prelude is evaluated this many lines down, so that its stack frames
#: (QuickJS names every eval "<input>") can be told from the spell's own.
_PRELUDE_OFFSET = 100_000
#: Results that cross into JavaScript as they are (ints only within 2**53).
_PRIMITIVES = (str, int, float, bool)
_SAFE = 1 << 53
#: The quickjs binding hands a Python int over as a 32-bit integer (2**31
#: arrives as -2**31): a larger one goes over as the float of the same value.
_INT32 = 1 << 31
#: Reads one JSON value at an offset: json.loads without its per-call overhead.
_scan_json = json.JSONDecoder().scan_once


class JavaScriptEngine(Engine):
    language = "javascript"
    run_imports = ("quickjs",)

    def check(self, source: str, filename: str, names: Collection[str]) -> None:
        """Compile the spell in a fresh context with limits armed; none of it runs (see js_check).
        JavaScript resolves global names only when it runs, so ``names`` is not needed."""
        import quickjs

        ctx = quickjs.Context()
        ctx.set_memory_limit(CHECK_MEMORY)
        ctx.set_time_limit(CHECK_SECONDS)
        try:
            compile_spell(ctx, quickjs, source, filename, _label())
        except quickjs.JSException as exc:
            raise SpellError("syntax_error", "the spell cannot be compiled within the limits of a check: "
                             + str(exc).split("\n", 1)[0], file=filename) from None


#: Python values that are already JSON the prelude reads as they are (no walk).
_JSON_PLAIN = frozenset({bool, int, str})


class _JSMaker(ValueMaker):
    """JavaScript's hooks of the one conversion walker (values.make): JSON
    data, with markers (checked by the nonce) for what JSON cannot say."""

    language = "JavaScript"

    def __init__(self, vm: _JSVM) -> None:
        self.vm = vm

    def scalar(self, value: bool | int | float | str) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return {f"$num{self.vm.nonce}": "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")}
        return value

    def handle(self, value: HostHandle) -> Any:
        vm = self.vm
        vm.handles.append(value)
        table = vm._method_table(value.bridge)
        dyn = _dynamic_id(value.bridge, table)
        return {f"$h{vm.nonce}": len(vm.handles) - 1, "m": table, "d": dyn,
                "f": vm.encode(value.bridge.script_attributes())}

    def error(self, value: SpellError) -> Any:
        return {"kind": value.kind, "message": value.message}

    def function(self, value: Any) -> Any:
        return self.other(value, "")

    def other(self, value: Any, path: str) -> Any:
        raise SpellError("invalid_argument", f"a {type(value).__name__} cannot be passed to JavaScript")


class _JSVM(ScriptVM):
    """One fresh QuickJS context for one run."""

    def __init__(self, host: SpellRun) -> None:
        import quickjs

        super().__init__(host)
        self.quickjs = quickjs
        self.ctx = quickjs.Context()
        if host.limits.max_memory:
            self.ctx.set_memory_limit(host.limits.max_memory)
        self.nonce = secrets.token_hex(8)
        self.deadline = host.deadline
        #: Bridge methods by id: (spec, bridge, invoker of a sync method).
        self.methods: list[tuple[MethodSpec, Bridge, Any]] = []
        #: The same, by the id's text as a queued call names it.
        self.method_by_text: dict[str, tuple[MethodSpec, Bridge, Any]] = {}
        self.handles: list[HostHandle] = []
        self.invocations: dict[int, asyncio.Future] = {}
        self.pending_invocations: list[list] = []
        self.wakeup = asyncio.Event()
        #: Tasks of async bridge calls that have ended, in the order they ended.
        self.finished: list[asyncio.Task] = []
        self.source_lines: list[str] = []
        self.maker = _JSMaker(self)

    def install(self, bridges: Mapping[str, Bridge], code: Mapping[str, str], params: dict[str, Any]) -> None:
        """The prelude, given what it makes the globals from: each bridge's
        method table (and dynamic method), ``params``, and each bridge's own
        VM code, evaluated with the prelude (past the same offset)."""
        host = self.host
        description = {"globals": {}, "params": self.encode(params), "log": {}, "dynamic": {},
                       "budget": host.limits.max_instructions,
                       # the prelude's copies of Python's numbers, read at each start: one source
                       "maxDepth": values.MAX_DEPTH, "preludeLine": _PRELUDE_OFFSET}
        for name, bridge in bridges.items():
            table = description["globals"][name] = self._method_table(bridge)
            if bridge.dynamic_method:
                description["dynamic"][name] = _dynamic_id(bridge, table)
            if name == "log":
                for level in ("warn", "error"):
                    description["log"][level] = self._method_id(bridge.specs[level], bridge)
        # With interceptors, the calls the VM answers itself are reported (see _observed).
        description["observed"] = [i for i, (spec, _, _) in enumerate(self.methods)
                                   if spec.sync_in_js] if host.interceptors else None
        bridge_code = ", ".join(f"{json.dumps(name)}: {text}" for name, text in code.items())
        # The description is JSON text the VM parses, not an object literal: in
        # a literal a "__proto__" key (in params) would set the prototype.
        self._eval("\n" * _PRELUDE_OFFSET + f"({_PRELUDE})({json.dumps(self.nonce)}, "
                   f"JSON.parse({json.dumps(json.dumps(description))}), {{{bridge_code}}})")
        self.fn_start, self.fn_drain, self.fn_drain_fast, self.fn_resolve_fast, self.fn_settle = (
            self.ctx.get(f"__llmspell_{name}{self.nonce}")
            for name in ("start", "drain", "drainFast", "resolveFast", "settle"))

    # -- tables of methods ------------------------------------------------------
    def _method_id(self, spec: MethodSpec, bridge: Bridge) -> int:
        invoke = None if spec.is_async else dispatch.sync_caller(self.host, spec, bridge, JAVASCRIPT)
        runs = bridge.vm_runs.get(spec.name)
        if invoke is not None and runs:
            invoke = self._module_source(invoke, *runs)
        self.methods.append((spec, bridge, invoke))
        self.method_by_text[str(len(self.methods) - 1)] = self.methods[-1]
        return len(self.methods) - 1

    def _module_source(self, method: Any, source: str, name: str) -> Any:
        """A method whose result is source the VM runs (Bridge.vm_runs, e.g.
        spell.require's module): that source is first compiled here, so a
        syntax error in it is the module's (its file, line and column), not a
        runtime error of whoever ran it; and it counts against the
        instruction budget like the spell's own."""
        counted = self.host.limits.max_instructions is not None
        tick = f"__llmspell_tick{self.nonce}"

        def call(*args: Any) -> Any:
            result = method(*args)
            text, shown = result[source], result[name]
            self._arm()
            try:
                compile_spell(self.ctx, self.quickjs, text, shown, _label())
            except self.quickjs.JSException as exc:
                raise self._vm_error(exc) from None
            finally:
                self.ctx.set_time_limit(-1)  # as a bridge call finds it: the VM is not running
            if counted:
                from .js_instrument import instrument

                return {**result, source: instrument(text, tick, shown)}
            return result

        return call

    def _method_table(self, bridge: Bridge) -> list:
        return [[name, self._method_id(spec, bridge), spec.is_async] for name, spec in bridge.specs.items()]

    # -- conversion -------------------------------------------------------------
    def encode(self, value: Any) -> Any:
        """ScriptValue -> JSON data the prelude decodes (values.make with
        JavaScript's hooks, _JSMaker)."""
        if value is None or type(value) in _JSON_PLAIN:  # as they are: no walk
            return value
        return make(value, self.maker)

    def decode(self, value: Any) -> Any:
        """JSON data from the prelude -> ScriptValue."""
        if isinstance(value, list):
            return [self.decode(v) for v in value]
        if isinstance(value, dict):
            if len(value) == 1:
                # Markers made by the prelude.  A spell that learns the nonce can
                # forge them, so each is checked before it is trusted.
                (k, v), = value.items()
                if k == f"$fn{self.nonce}" and type(v) is int and v >= 0:
                    return ScriptFunction(lambda *args, i=v: self.invoke(i, args), "function", "javascript")
                if k == f"$h{self.nonce}" and type(v) is int and 0 <= v < len(self.handles):
                    return self.handles[v]
                if k == f"$num{self.nonce}" and v in ("NaN", "Infinity", "-Infinity", "-0"):
                    return float(v)
                if k.startswith(("$fn", "$h", "$num")) and k.endswith(self.nonce):
                    raise SpellError("invalid_argument", "a value that imitates llmspell's internal markers "
                                     "cannot be passed to the host")
            return {k: self.decode(v) for k, v in value.items()}
        return value

    # -- entering the VM --------------------------------------------------------
    def _arm(self) -> None:
        deadline = self.deadline
        if deadline is not None:
            remaining = deadline - monotonic()
            if remaining <= 0:
                raise self.host.timeout_error()
            self.ctx.set_time_limit(remaining if remaining > 0.001 else 0.001)

    def _eval(self, code: str) -> Any:
        self._arm()
        try:
            return self.ctx.eval(code)
        except self.quickjs.JSException as exc:
            raise self._vm_error(exc) from None

    def _call(self, fn: Any, *args: Any) -> Any:
        self._arm()
        try:
            return fn(*args)
        except self.quickjs.JSException as exc:
            raise self._vm_error(exc) from None

    def _vm_error(self, exc: Exception) -> SpellError:
        text = str(exc)
        if "interrupted" in text.split("\n", 1)[0]:
            return self.host.timeout_error()
        first = text.split("\n", 1)[0]
        if "out of memory" in first or (first.strip() == "null" and self.host.limits.max_memory):
            return self.host.memory_error()
        return self._runtime_error({"kind": "runtime_error", "message": text.split("\n", 1)[0], "stack": text})

    # -- running ------------------------------------------------------------------
    async def execute(self, source: str) -> Any:
        self.source_lines = source.splitlines()
        # Compiled with the limits armed, and a spell whose text would close the
        # wrapper is a syntax error before any of it runs (see js_check).
        main = self._compile(source)
        if self.host.limits.max_instructions is not None:
            from .js_instrument import instrument

            try:
                main = self._compile(instrument(source, f"__llmspell_tick{self.nonce}", self.host.filename))
            except SpellError as exc:
                if exc.kind != "syntax_error":
                    raise
                # The counter read the text differently from QuickJS: refuse rather than run it uncounted.
                raise SpellError("invalid_argument", "--max-instructions: this spell uses JavaScript syntax "
                                 "that the instruction counter cannot read", file=self.host.filename,
                                 hint="run it without --max-instructions (--timeout still bounds it)") from None
        self._call(self.fn_start, main)
        return await self._loop()

    def _compile(self, source: str) -> Any:
        self._arm()
        try:
            return compile_spell(self.ctx, self.quickjs, source, self.host.filename, _label())
        except self.quickjs.JSException as exc:
            raise self._vm_error(exc) from None

    async def invoke(self, fn: int, args: tuple) -> Any:
        """Call a spell function from the host; the main loop carries it in."""
        inv = len(self.invocations) + 1
        fut = asyncio.get_running_loop().create_future()
        self.invocations[inv] = fut
        self.pending_invocations.append([inv, fn, [self.encode(a) for a in args]])
        self.wakeup.set()
        return await fut

    async def _loop(self) -> Any:
        host = self.host
        running: dict[asyncio.Task, int] = {}
        ready: list[list] = []
        while True:
            if ready or self.pending_invocations:
                self._settle(ready)
                ready = []
            self._run_jobs(running)
            text = self._call(self.fn_drain)
            if text == "!oom":
                raise self.host.memory_error()
            if text == "!instructions":
                raise instructions_error(host, " (loop iterations and calls)")
            if text and text[0] != "[":
                self.ctx.set_time_limit(-1)
                self._lone_call(text, running, plain=False)
                continue
            try:
                calls, out, done, inv, seen = _read_drained(text) if text else ((), "", None, (), ())
            except (ValueError, TypeError):
                raise _tampered() from None
            for record in seen:
                self._observed(*record)
            if out:
                host.print(out)
            for invocation, ok, value in inv:
                fut = self.invocations.pop(invocation, None)
                if fut is not None and not fut.done():
                    if ok:
                        fut.set_result(self.decode(value))
                    else:
                        fut.set_exception(self._runtime_error(value))
            for call_id, method_id, args in calls:
                spec, bridge, invoke = self.methods[method_id]
                if invoke is None:
                    call = dispatch.call_async(host, spec, bridge, self.decode(args), JAVASCRIPT)
                    self._start(call, call_id, running)
                else:
                    try:
                        value = invoke(*self.decode(args))
                        ready.append([call_id, True, self.encode(value)])
                    except SpellError as exc:
                        if is_run_limit(exc):
                            raise  # ends the run: no try/catch of the spell may swallow it
                        ready.append([call_id, False, self._error_payload(exc)])
            if done is not None and not running and not ready:
                ok, value = done
                if ok:
                    return self.decode(value)
                raise self._runtime_error(value)
            if ready or self.pending_invocations:
                continue
            if not running:
                if done is not None or inv or calls:
                    continue
                # Nothing queued, nothing running, not finished: the spell awaits
                # something that can never happen (e.g. a promise it never resolves).
                if not self.invocations:
                    raise SpellError("runtime_error", "the spell is waiting on a promise that nothing will settle",
                                     file=host.filename, hint="check for a missing resolve() or await")
            ready = await self._wait(running)

    def _run_jobs(self, running: dict[asyncio.Task, int]) -> None:
        """Run the spell's pending jobs until there are none.

        Each job is its own entry into the VM with its own time limit, so a
        spell that spins in microtasks (``while (1) await null``) is caught.
        After each job a lone new bridge call is taken at once (the common
        case of a spell awaiting one call after another): a synchronous one is
        answered before the next job, so an awaited call costs one entry with
        the time limit on, not three.  ``drainFast`` and ``resolveFast`` run
        no spell code (see js_prelude.js), so they run with the limit off:
        arming it costs a CPU-clock system call per entry.
        """
        ctx = self.ctx
        run_job, set_limit = ctx.execute_pending_job, ctx.set_time_limit
        drain_fast, lone_call = self.fn_drain_fast, self._lone_call
        deadline = self.deadline
        fast = True
        try:
            while True:
                if deadline is not None:  # self._arm(), inline: this is the hot loop
                    remaining = deadline - monotonic()
                    if remaining <= 0:
                        raise self.host.timeout_error()
                    set_limit(remaining if remaining > 0.001 else 0.001)
                if not run_job():
                    return
                if fast:
                    set_limit(-1)
                    text = drain_fast()
                    if text is None:
                        fast = False  # prints, a batch of calls, the result: drain() takes them all
                    elif text:
                        lone_call(text, running, True)
        except self.quickjs.JSException as exc:
            raise self._vm_error(exc) from None

    def _lone_call(self, text: str, running: dict[asyncio.Task, int], plain: bool) -> None:
        """Take one queued call, "callId methodId [args]": start it if it is
        async, else run it and settle its promise at once."""
        try:
            cid, mid, args_text = text.split(" ", 2)
            spec, bridge, invoke = self.method_by_text[mid]
            args, end = _scan_json(args_text, 0)
            if end != len(args_text):
                raise ValueError(text)
            if "\\u" in args_text:
                args = well_formed_data(args)
        except (ValueError, KeyError, StopIteration):
            raise _tampered() from None
        if type(args) is not list:
            args = [args]  # one argument is sent as itself
        elif not plain:
            args = self.decode(args)
        if invoke is None:
            self._start(dispatch.call_async(self.host, spec, bridge, args, JAVASCRIPT), _call_id(cid), running)
            return
        try:
            result = invoke(*args)
        except SpellError as exc:
            if is_run_limit(exc):
                raise  # ends the run: no try/catch of the spell may swallow it
            self._settle([[_call_id(cid), False, self._error_payload(exc)]])
            return
        kind = type(result)
        if result is None or kind in _PRIMITIVES and (kind is not int or -_SAFE <= result <= _SAFE):
            # A primitive goes across as it is, and resolving with it runs no
            # spell code: the time limit is off here (see _run_jobs).
            if kind is int and not -_INT32 <= result < _INT32:
                result = float(result)  # exact within 2**53; JavaScript has one number type
            try:
                self.fn_resolve_fast(cid, result)
            except self.quickjs.JSException as exc:
                raise self._vm_error(exc) from None
            return
        self._settle([self._result_row(_call_id(cid), result)])

    def _observed(self, method_id: int, args: Any, ok: bool, value: Any, milliseconds: float) -> None:
        """A call the VM answered itself (a bridge's VM code, e.g. json's),
        reported to the interceptors after the fact (dispatch.observed)."""
        spec, bridge, _ = self.methods[method_id]
        if ok:
            result, error = self.decode(value), None
        else:
            info = value if isinstance(value, dict) else {}
            result, error = None, SpellError(str(info.get("kind") or "runtime_error"), str(info.get("message")))
        dispatch.observed(self.host, spec, bridge, self.decode(args) if isinstance(args, list) else [], JAVASCRIPT,
                          result, error, milliseconds / 1000)

    def _start(self, coro: Any, call_id: int, running: dict[asyncio.Task, int]) -> None:
        """Start an async bridge call; its task reports to ``finished`` when done,
        so waiting costs the same with one call in flight or ten thousand."""
        task = self.host.spawn(self._reporting(coro))
        running[task] = call_id
        task.add_done_callback(self._on_done)

    async def _reporting(self, coro: Any) -> Any:
        """The call, which reports itself as it ends: in the same turn of the event loop as the task
        finishes (a done callback would wait for the next turn, and wake this loop one turn later)."""
        try:
            return await coro
        finally:
            self.finished.append(asyncio.current_task())
            self.wakeup.set()

    def _on_done(self, task: asyncio.Task) -> None:
        if task.cancelled():  # perhaps before it started, when _reporting could not report it
            self.finished.append(task)
            self.wakeup.set()

    async def _wait(self, running: dict[asyncio.Task, int]) -> list[list]:
        if not self.finished:
            self.wakeup.clear()
            await before_deadline(self.host, self.wakeup.wait())
        done, self.finished = self.finished, []
        ready = []
        for task in done:
            call_id = running.pop(task, None)
            if call_id is None:
                continue
            exc = task.exception() if not task.cancelled() else SpellError("cancelled", "the call was cancelled")
            if exc is None:
                ready.append(self._result_row(call_id, task.result()))
            elif isinstance(exc, SpellError):
                if is_run_limit(exc):
                    raise exc
                ready.append([call_id, False, self._error_payload(exc)])
            else:
                ready.append([call_id, False, self._error_payload(dispatch.internal_error("bridge call", exc))])
        return ready

    def _settle(self, ready: list[list]) -> None:
        invocations, self.pending_invocations = self.pending_invocations, []
        self._call(self.fn_settle, json.dumps([ready, invocations]))

    def _result_row(self, call_id: int, value: Any) -> list:
        """A call's row for _settle: its result, or, when the result cannot
        become a JavaScript value (nested too deep), the call's error, which
        the spell may catch as Lua's pcall and Tengo's is_error see it."""
        try:
            return [call_id, True, self.encode(value)]
        except SpellError as exc:
            if is_run_limit(exc):
                raise
            return [call_id, False, self._error_payload(exc)]

    def _error_payload(self, exc: SpellError) -> dict:
        return error_value(exc)  # the prelude's SpellError reads kind, message and where

    # -- errors ---------------------------------------------------------------------
    def _stack(self, text: str) -> list[Frame]:
        frames = []
        for line in text.splitlines():
            m = _FRAME.match(line)
            if m and int(m.group("line")) < _PRELUDE_OFFSET and m.group("name") != "<eval>":
                frames.append(Frame(self.host.filename, int(m.group("line")), m.group("name")))
        return frames

    def _runtime_error(self, info: dict) -> SpellError:
        # Out of memory, QuickJS may have no room left to build its InternalError and throws null instead.
        message = str(info.get("message"))
        if self.host.limits.max_memory and (message == "uncaught null" or "out of memory" in message):
            return self.host.memory_error()
        stack = self._stack(info.get("stack") or "")
        exc = from_error_value(info.get("kind") or "runtime_error", message, info.get("where"), stack=stack)
        if exc.file is None:  # no where: the spell's own frame, if any
            exc.file, exc.line = self.host.filename, stack[0].line if stack else None
        return exc


def _read_drained(text: str) -> Any:
    """What the VM sent, with every lone surrogate in it (JSON.stringify
    writes one as a \\u escape, as it does a control character) made U+FFFD:
    see wellformed.py."""
    data = json.loads(text)
    return well_formed_data(data) if "\\u" in text else data


def _dynamic_id(bridge: Bridge, table: list) -> int | None:
    """The method id of a bridge's catch-all method (see Bridge.dynamic_method)."""
    return next((row[1] for row in table if row[0] == bridge.dynamic_method), None)


def _call_id(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise _tampered() from None


def _tampered() -> SpellError:
    return SpellError("runtime_error", "the spell changed a JavaScript built-in that llmspell relies on, "
                      "and its calls to the host can no longer be read",
                      hint="do not replace JSON, Array or Promise methods in a spell")


def _label() -> str:
    """A fresh label for the block a spell is first compiled in (see js_check)."""
    return f"__llmspell_spell{secrets.token_hex(8)}"


JavaScriptEngine.vm_class = _JSVM
