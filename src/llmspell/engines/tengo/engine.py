"""Tengo spells: our interpreter, run on a thread of its own per spell.

The compiled Tengo code is plain (fast) Python, not generators, so a spell
cannot be suspended mid-frame; instead it runs on its own thread and a bridge
call blocks that thread while the coroutine runs on the host's event loop.
While it waits, the thread serves its *mailbox*: the host may ask it to run
one of the spell's functions (an ``on_chunk`` callback, a tool handler), so
callbacks run on the spell's own thread, one at a time, as DESIGN.md asks.

Bridge errors reach the script as Tengo ``error`` values (``is_error(v)``,
``v.value.kind``); limit errors stop the script.  A spell fails on purpose by
exporting (or leaving in ``result``) an error value ``{kind, message}``.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import ctypes
import queue
import re
import threading
import time
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ... import dispatch
from ...bridges.base import TENGO
from ...errors import SpellError
from ...host import is_run_limit
from ...values import ARRAY, READY, TABLE, HostHandle, ScriptFunction, ValueMaker, ValueReader, make, read
from ...wellformed import well_formed
from .._error_values import error_value
from .._limits import before_deadline, instructions_error
from ..base import Engine, ScriptVM
from .memory import ENTRY as _ENTRY
from .memory import HEADER as _CONTAINER
from .memory import SLOT as _SLOT
from .memory import Memory
from .modules import TengoModules
from .objects import (
    UNDEFINED,
    Builtin,
    Char,
    Error,
    Function,
    ImmutableArray,
    ImmutableMap,
    TengoError,
    Time,
    type_name,
)
from .program import StopFlag

if TYPE_CHECKING:
    from ...bridges.base import Bridge, MethodSpec
    from ...host import SpellRun

#: Errors that end the spell instead of becoming an ``error`` value.
#: Globals the Tengo engine adds to the runtime's (bridges and params), in a run and in a check alike.
_OWN_GLOBALS = ("fmt",)
_REDECLARED = re.compile(r"'(\w+)' redeclared")
_STACK_SIZE = 256 << 20
_stack_lock = threading.Lock()


class TengoEngine(Engine):
    language = "tengo"
    reserved_memory = _STACK_SIZE  # the spell's own thread, with a deep stack
    #: Every bridge is an object whose static members are built when the VM starts (the tools' list
    #: needs the run's services), and ``fmt`` is a global.
    run_imports = ("llmspell.services", "llmspell.engines.tengo.stdlib.fmt")

    def check(self, source: str, filename: str, names: Collection[str]) -> None:
        compile_spell(source, filename, [*names, *_OWN_GLOBALS], _any_module)


def compile_spell(source: str, filename: str, names: list[str], loader: Any) -> Any:
    """Compile a spell with the host's globals pre-declared.  A spell may
    declare its own variable with a global's name (`fmt := import("fmt")`,
    `json := import("json")`): that global is then left out, so it wins."""
    from .program import compile_program

    while True:
        try:
            return compile_program(source, filename, globals_names=names, module_loader=loader, as_module=True)
        except SpellError as exc:
            m = _REDECLARED.search(exc.message)
            if m and m.group(1) in names:
                names.remove(m.group(1))
                continue
            raise


def _any_module(name: str) -> Any:
    """For a syntax check: every import resolves to an empty module."""
    return ImmutableMap({})


class _StdlibHost:
    """What the Tengo standard library sees of the run."""

    def __init__(self, host: SpellRun) -> None:
        self._host = host
        self.policy = host.policy
        #: os: the run's write quota and the programs it started (ended with the run).
        self.count_write = host.count_write
        self.children = host.children

    def write(self, text: str) -> None:
        self._host.print(text)

    def cwd(self) -> Path:
        return self._host.base_dir


#: Python values that are already Tengo values (no walk; an int only within int64).
_TENGO_PLAIN = frozenset({bool, int, float, str})


def _int64_or_float(value: int) -> int | float:
    """A host int as Tengo holds it: beyond int64, the nearest float (as Lua
    and JavaScript hold it), infinite beyond the float range."""
    if -(1 << 63) <= value < (1 << 63):
        return value
    try:
        return float(value)
    except OverflowError:
        return float("inf") if value > 0 else float("-inf")


class _TengoMaker(ValueMaker):
    """Tengo's hooks of the one conversion walker (values.make)."""

    language = "Tengo"

    def __init__(self, run: _TengoRun, mutable: bool) -> None:
        self.run, self.mutable = run, mutable

    def none(self) -> Any:
        return UNDEFINED

    def scalar(self, value: bool | int | float | str) -> Any:
        return _int64_or_float(value) if type(value) is int else value

    def array(self, items: list) -> Any:
        return items if self.mutable else ImmutableArray(items)

    def table(self, items: list[tuple[Any, Any]]) -> Any:
        members = {str(k): v for k, v in items}
        return members if self.mutable else ImmutableMap(members)

    def handle(self, value: HostHandle) -> Any:
        obj = self.run._object(value.bridge, value.bridge.script_attributes())
        self.run.handles[id(obj)] = (obj, value)  # given back to the host, it is the handle again
        return obj

    def error(self, value: SpellError) -> Any:
        return _error_object(value)


class _TengoReader(ValueReader):
    """Tengo's hooks of the one reading walker (values.read)."""

    what = "an array or map"

    def __init__(self, run: _TengoRun) -> None:
        self.run = run

    def read(self, value: Any, path: str) -> tuple[int, Any]:
        if value is UNDEFINED or value is None:
            return READY, None
        t = type(value)
        if t in _TENGO_PLAIN:
            return READY, well_formed(value) if t is str else value
        memory = self.run.memory
        if t in (list, ImmutableArray):
            if memory is not None:  # a value holding one array many times is copied many times
                memory.need(_CONTAINER + _SLOT * len(value))
            return ARRAY, enumerate(value)
        if t in (dict, ImmutableMap):
            held = self.run.handles.get(id(value)) if t is ImmutableMap else None
            if held is not None and held[0] is value:  # a handle's object (an agent, a tool)
                return READY, held[1]
            if memory is not None:
                memory.need(_CONTAINER + _ENTRY * len(value))
            return TABLE, ((well_formed(k), v) for k, v in value.items())
        if t is Char:
            return READY, well_formed(chr(value.v)) if 0 <= value.v <= 0x10FFFF else "\ufffd"
        if t in (bytes, bytearray):
            return READY, base64.b64encode(bytes(value)).decode("ascii")
        if t is Error:
            return TABLE, (("error", value.value),)
        if t is Time:
            from .stdlib.times import format_layout

            return READY, format_layout(value, "2006-01-02T15:04:05.999999999Z07:00")
        if t is Function:
            run = self.run
            return READY, ScriptFunction(lambda *args, f=value: run._callback(f, *args), "function", "tengo")
        if t is Builtin:
            raise SpellError("invalid_argument", f"{path or 'value'}: a builtin function ({value.name}) "
                                                 "cannot be passed to the host")
        raise SpellError("invalid_argument", f"{path or 'value'}: a {type_name(value)} cannot be passed to the host")


class _TengoRun(ScriptVM):
    """One run of a Tengo spell: its globals, its thread, and the host's side of its calls."""

    def __init__(self, host: SpellRun) -> None:
        super().__init__(host)
        self.loop = asyncio.get_running_loop()
        self.mailbox: queue.SimpleQueue = queue.SimpleQueue()
        self.stop_flag = StopFlag()
        self.ticks = 0
        self.memory: Memory | None = None
        self.callbacks = 0  # spell functions run for the host so far (see _caller)
        self.thread: threading.Thread | None = None
        self.finished: asyncio.Future | None = None
        self._lock = threading.Lock()
        self._ended = False  # the thread is past the spell (see _interrupt)
        self.stdlib_host = _StdlibHost(host)
        self.result: Any = None
        self.program: Any = None
        #: objects of bridges with a dynamic method (``tools``), to add names to
        self.dynamic: list[tuple[Bridge, ImmutableMap]] = []
        #: id -> (object, handle) of each handle's object given to the spell, so that the object
        #: given back (``tools = [agent]``) crosses as the handle, as in Lua and JavaScript
        self.handles: dict[int, tuple[ImmutableMap, HostHandle]] = {}
        self.values: dict[str, Any] = {}
        self.maker, self.mutable_maker = _TengoMaker(self, False), _TengoMaker(self, True)
        self.reader = _TengoReader(self)
        #: file modules: import's loader and spell.require (modules.py)
        self.modules = TengoModules(self)
        #: global name -> {method: (its caller, the fields of its module)}: methods
        #: whose result is a module that runs here (Bridge.vm_runs, spell.require)
        self.module_methods: dict[str, dict[str, tuple[Any, tuple[str, str]]]] = {}

    def install(self, bridges: Mapping[str, Bridge], code: Mapping[str, str], params: dict[str, Any]) -> None:
        """The globals: bridges, ``params`` (mutable, as the spell's own
        values are) and Tengo's own (``fmt``).  Tengo runs no bridge code of its own."""
        from .stdlib import get_module

        values = self.values
        values.update({name: self._object(bridge, {}) for name, bridge in bridges.items()})
        values["params"] = self.to_tengo(params, mutable=True)
        values.update({name: get_module(name, self.stdlib_host) for name in _OWN_GLOBALS})

    # -- starting ------------------------------------------------------------------
    async def execute(self, source: str) -> Any:
        done: asyncio.Future = self.loop.create_future()
        finished: asyncio.Future = self.loop.create_future()
        self.finished = finished
        loop = self.loop

        def body() -> None:
            # Nothing may escape this function: past the end of its run the
            # thread's loop may be closed, and an exception leaving a thread
            # prints a Python traceback on the host's stderr.
            try:
                try:
                    value, error = self._run(source), None
                except BaseException as exc:  # noqa: BLE001 - handed to the loop as data
                    value, error = None, exc
                with self._lock:
                    self._ended = True
                if not self.stop_flag.requested:  # else the run is over: no one reads this
                    _post(loop, _settle, done, value, error)
                _post(loop, _settle, finished, None, None)
                _checkpoint()
            except BaseException:  # noqa: BLE001 - the cancel _interrupt delivered; the run is over
                pass

        with _stack_lock:
            old = threading.stack_size(_STACK_SIZE)
            try:
                thread = threading.Thread(target=body, name=f"tengo:{self.host.filename}", daemon=True)
                thread.start()
            finally:
                threading.stack_size(old)
        self.thread = thread
        return await before_deadline(self.host, asyncio.shield(done), grace=0.5)

    async def close(self) -> None:
        """End the spell's thread with the run, whatever ended the run.

        The thread stops at its next tick or builtin call (and a bridge call it
        waits for is abandoned).  A thread still busy after a moment is inside
        one long step of Python code (comparing huge values, say): it is
        interrupted there.  A thread blocked in a system call cannot be, until
        the call returns; from then on it does nothing more.  The run waits
        for it, within a bound, before it returns."""
        self.stop_flag.requested = True
        self.mailbox.put(("stop",))
        finished, thread = self.finished, self.thread
        if finished is None or thread is None:
            return
        for wait in _STOP_WAITS:
            try:
                await asyncio.wait_for(asyncio.shield(finished), timeout=wait)
                return
            except TimeoutError:
                self._interrupt(thread)
            except asyncio.CancelledError:
                self._interrupt(thread)
                raise

    def _interrupt(self, thread: threading.Thread) -> None:
        """Raise ``_Stopped`` in the thread at its next Python instruction
        (once: the thread's body catches it, wherever it lands)."""
        with self._lock:
            if self._ended or thread.ident is None:
                return
            self._ended = True
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(_Stopped))

    def _run(self, source: str) -> Any:
        host = self.host
        values = self.values
        try:
            program = compile_spell(source, host.filename, list(values), self.modules.loader())
        except SpellError as exc:
            if exc.file is None:  # e.g. an import the policy denies
                exc.file = host.filename
            raise
        self.program = program
        limit = host.limits.max_memory
        self.memory = Memory(limit) if limit else None
        try:
            result = program.run(values, check_interrupt=self._check, memory=self.memory, stop=self.stop_flag)
            self.program_run = result
            value = result.exported
            if value is UNDEFINED:
                value = result.globals.get("result", UNDEFINED)
            failure = _failure(value)
            if failure is not None:
                raise failure
            try:
                return self.to_script(value)
            except SpellError as exc:
                exc.file = exc.file or host.filename
                raise
        finally:
            if self.memory is not None:
                self.memory.close()

    def _check(self) -> None:
        if self.stop_flag.requested:
            raise self.stop_flag.error()
        host = self.host
        self.ticks += 1
        limit = host.limits.max_instructions
        if limit is not None and self.ticks * 1024 > limit:
            raise instructions_error(host)
        deadline = host.deadline
        if deadline is not None and time.monotonic() > deadline:
            raise host.timeout_error()

    # -- bridges ---------------------------------------------------------------------
    def _object(self, bridge: Bridge, fields: dict) -> ImmutableMap:
        members: dict[str, Any] = {k: self.to_tengo(v) for k, v in fields.items()}
        for name, spec in bridge.specs.items():
            members[name] = Builtin(f"{bridge.name}.{name}", self._caller(spec, bridge))
            fields = bridge.vm_runs.get(name)
            if fields is not None:  # its result is a module, run here (modules.py)
                self.module_methods.setdefault(bridge.name, {})[name] = (members[name].fn, fields)
                members[name] = self.modules.require(members[name].fn, fields, None)
        obj = ImmutableMap(members)
        if bridge.dynamic_method:
            # Tengo maps have no fallback lookup: list the names known now
            # (the built-in tools) and add the ones the spell defines later
            # (tools.register) after each call of this bridge.
            self.dynamic.append((bridge, obj))
            self._add_dynamic(bridge, obj)
        return obj

    def _add_dynamic(self, bridge: Bridge, obj: ImmutableMap) -> None:
        caller = obj[bridge.dynamic_method]
        names = [*getattr(bridge, "static_members", lambda: [])(), *getattr(bridge, "registered", ())]
        for name in names:
            if name not in obj:
                dict.__setitem__(obj, name, Builtin(f"{bridge.name}.{name}",
                                                    lambda *a, _n=name, _c=caller: _c(_n, *a)))

    def _refresh_dynamic(self, bridge: Bridge) -> None:
        for owner, obj in self.dynamic:
            if owner is bridge:
                self._add_dynamic(bridge, obj)

    def _caller(self, spec: MethodSpec, bridge: Bridge) -> Any:
        host = self.host
        invoke = None if spec.is_async else dispatch.sync_caller(host, spec, bridge, TENGO)

        def call(*args: Any) -> Any:
            try:
                script_args = [self.to_script(a) for a in args]
            except SpellError as exc:  # a cycle, too deep, a builtin: the call's error value
                return _call_failed(exc)
            memory, callbacks = self.memory, self.callbacks
            before = memory.resident() if memory is not None else 0
            grown, made = 0, False
            try:
                if invoke is None:
                    value = self._await(dispatch.call_async(host, spec, bridge, script_args, TENGO))
                else:
                    value = invoke(*script_args)
                made = True
            except SpellError as exc:
                return _call_failed(exc)
            finally:
                if memory is not None and self.callbacks == callbacks:
                    grown = memory.resident() - before
                    if not made:
                        memory.rebase(grown)
            if bridge.dynamic_method:
                self._refresh_dynamic(bridge)
            elif type(value) is HostHandle and self.dynamic:  # agent:as_tool, llm.agent may add tools
                for owner, _ in self.dynamic:
                    self._refresh_dynamic(owner)
            try:
                result = self.to_tengo(value)
            except SpellError as exc:  # e.g. json.decode of text nested too deep
                return _call_failed(exc)
            if memory is not None:
                # What the host took for the call (its buffers, a module it
                # imported) is the host's, as in Lua and JavaScript; the value
                # the spell gets stays counted.  (When spell code ran
                # meanwhile, everything counts.)
                size = _value_size(result)
                memory.rebase(grown - size)
                memory.took(size)
            return result

        return call

    def _await(self, coro: Any) -> Any:
        """Run a coroutine on the loop; meanwhile serve callbacks on this thread."""
        future = asyncio.run_coroutine_threadsafe(self._wrapped(coro), self.loop)
        while True:
            remaining = self.host.remaining()
            try:
                item = self.mailbox.get(timeout=None if remaining is None else max(remaining, 0) + 0.25)
            except queue.Empty:
                future.cancel()
                raise self.host.timeout_error() from None
            if item[0] == "done":
                if item[2] is not None:
                    raise item[2]
                return item[1]
            if item[0] == "stop":
                future.cancel()
                raise self.stop_flag.error()
            _, fn, args, reply, context = item
            self.callbacks += 1
            # In the context of the host's call that waits on it: the calls it makes are nested in that one
            # (dispatch bounds how deep).
            context.run(self._serve, fn, args, reply)

    async def _wrapped(self, coro: Any) -> None:
        try:
            value = await coro
        except BaseException as exc:  # noqa: BLE001
            self.mailbox.put(("done", None, exc))
        else:
            self.mailbox.put(("done", value, None))

    def _serve(self, fn: Any, args: list, reply: asyncio.Future) -> None:
        try:
            value = self.program_run_call(fn, [self.to_tengo(a) for a in args])
            if type(value) is Error:
                # a callback fails as Tengo functions do: by returning an error
                raise _failure(value) or SpellError("runtime_error", _error_text(value.value))
            result, error = self.to_script(value), None
        except BaseException as exc:  # noqa: BLE001
            result, error = None, exc
        _post(self.loop, _settle, reply, result, error)

    def program_run_call(self, fn: Any, args: list) -> Any:
        from .operations import call_target

        try:
            return call_target(fn, len(args))(*args)
        except TengoError as exc:
            # The error becomes the bridge call's error value, which keeps only
            # kind and message: say where it happened in the message.
            trace = self.program._trace(exc.__traceback__) if self.program is not None else []
            where = f"{trace[0][0]}:{trace[0][1]}:{trace[0][2]}: " if trace else ""
            raise SpellError("runtime_error", where + str(exc), file=self.host.filename,
                             line=trace[0][1] if trace else None) from None

    async def _callback(self, fn: Any, *args: Any) -> Any:
        reply: asyncio.Future = self.loop.create_future()
        self.mailbox.put(("call", fn, list(args), reply, contextvars.copy_context()))
        return await reply

    # -- values ------------------------------------------------------------------------
    def to_tengo(self, value: Any, mutable: bool = False) -> Any:
        """A ScriptValue as a Tengo value (values.make with Tengo's hooks,
        _TengoMaker): immutable, or ``mutable`` as the spell's own are (params)."""
        t = type(value)
        if t in _TENGO_PLAIN:  # as they are: no walk
            return value if t is not int else _int64_or_float(value)
        return make(value, self.mutable_maker if mutable else self.maker)

    def to_script(self, value: Any) -> Any:
        """Tengo value -> ScriptValue (also the JSON form of a Tengo result):
        values.read with Tengo's hooks, _TengoReader."""
        if type(value) in _TENGO_PLAIN:  # as they are: no walk (a string made valid Unicode: wellformed.py)
            return well_formed(value) if type(value) is str else value
        return read(value, self.reader)


def _error_object(exc: SpellError) -> Error:
    """The error value (see _error_values) as a Tengo ``error``: its kind and
    message only, as Tengo spells have always seen it."""
    value = error_value(exc)
    return Error(ImmutableMap({"kind": value["kind"], "message": value["message"]}))


def _call_failed(exc: SpellError) -> Error:
    """A bridge call's failure as the spell sees it: an ``error`` value it
    can test with ``is_error``, as Lua's ``pcall`` and JavaScript's ``catch``
    see it; a run limit (time, memory, output) or the run's end goes on up
    and ends the run, whatever the spell does."""
    if is_run_limit(exc) or exc.kind == "cancelled":
        raise exc
    return _error_object(exc)


def _failure(value: Any) -> SpellError | None:
    """A result that is an error value shaped as a bridge error
    (``error({kind: "...", message: "..."})``, or a bridge call's error passed
    up) ends the run as that error, as an uncaught ``error(...)`` does in Lua
    and a ``throw`` in JavaScript: Tengo has no exceptions, so exporting the
    error is how a spell fails.  Any other error value is data
    (``{"error": VALUE}`` in JSON)."""
    if type(value) is not Error or type(value.value) not in (dict, ImmutableMap):
        return None
    kind, message = value.value.get("kind"), value.value.get("message")
    if type(kind) is not str or not kind or type(message) is not str:
        return None
    return SpellError(kind, message)


def _error_text(value: Any) -> str:
    if type(value) is str:
        return value
    from .objects import to_string

    return to_string(value)


#: How long the end of a run waits for its thread: a tick or builtin call
#: comes within the first; then the thread is interrupted, and waited for again.
_STOP_WAITS = (0.5, 1.5)


class _Stopped(BaseException):
    """Raised in a spell's thread that outlived its run (see _TengoRun.stop)."""


def _checkpoint() -> None:
    """A Python call: where an interrupt sent just before lands, inside the
    thread body's ``try`` rather than in the threading machinery."""


def _post(loop: asyncio.AbstractEventLoop, fn: Any, *args: Any) -> None:
    """``loop.call_soon_threadsafe`` that does nothing once the loop is closed
    (the run is over: no one waits for this anymore)."""
    try:
        loop.call_soon_threadsafe(fn, *args)
    except RuntimeError:
        pass


def _value_size(value: Any) -> int:
    from .memory import value_size

    return value_size(value)


def _settle(future: asyncio.Future, value: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)


TengoEngine.vm_class = _TengoRun
