"""Lua spells, on Lua 5.4 through ``lupa.lua54``.

The spell runs as a Lua coroutine that the host drives: an async bridge call
yields ``HOSTCALL`` to :meth:`LuaEngine._drive`, which awaits the bridge on the
event loop and resumes the coroutine with the result.  Synchronous bridge
methods (``json``, ``log``) are called directly.  Everything that crosses is
converted to ScriptValues; no Python object is ever visible to Lua, and host
errors arrive as plain ``{kind, message}`` tables.

The host never runs spell code outside the count hook: it reads a spell's
values raw (``lua_type``, ``items()`` which is ``lua_next``, ``rawget``), never
through ``str()`` of a Lua object or lupa's indexing, which would call the
spell's metamethods on Lua's main thread.  And what it gives Lua is always a
value lupa converts without failing (a failure inside lupa's conversion
becomes a Lua error whose value is the Python exception): strings that are
valid UTF-8 (:func:`lua_str`) and numbers Lua can hold (:func:`_big_int`).

A Lua string is bytes, and need not be UTF-8 (``"\255"``).  lupa reads every
Lua string as Latin-1 (one char per byte: it cannot fail, and ASCII reads as
fast as with UTF-8), and the host decodes a string that is not ASCII as UTF-8
by wellformed.py's rule, once, where it enters (:meth:`_LuaVM.text`).  So
bytes that are not UTF-8 are U+FFFD on every path -- a synchronous method's
arguments too, which lupa converts before any code of ours runs: read as
UTF-8 there, ``json.encode("\255")`` failed.  The synchronous fast path
decodes a string argument that is not ASCII the same way (dispatch.sync_caller's
``text``); an ASCII string is the same text either way.
"""

from __future__ import annotations

import math
import re
import secrets
import time
from importlib import resources
from typing import TYPE_CHECKING, Any

from .. import dispatch
from .._json_text import js_number
from ..bridges.base import LUA
from ..dispatch import SCALARS, internal_error
from ..errors import Frame, SpellError
from ..host import is_run_limit
from ..values import ARRAY, READY, TABLE, HostHandle, ScriptFunction, ValueMaker, ValueReader, make, read
from ..wellformed import from_utf8, well_formed
from ._error_values import error_value, from_error_value
from ._limits import before_deadline, instructions_error
from ._syntax import syntax_error
from .base import Engine, ScriptVM

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    from ..bridges.base import Bridge, MethodSpec
    from ..host import SpellRun

_PRELUDE = resources.files(__package__).joinpath("lua_prelude.lua").read_text()
_LOC = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+): ?(?P<msg>.*)$", re.S)
_TB_FRAME = re.compile(r"^\s*(?P<file>[^:\s][^:]*):(?P<line>\d+): in (?P<what>.*)$")


#: Python values lupa gives Lua as they are, never failing (an int too big for
#: Lua goes through the runtime's overflow handler).  A str may not be UTF-8
#: encodable: it goes through lua_str.
_LUA_SAFE = frozenset({int, float, bool, type(None)})


def lua_str(text: str) -> str | bytes:
    """A str as lupa can give it to Lua: a str that may hold a lone surrogate
    (JSON's "\\udcff", a file name that is not UTF-8) is encoded here, each
    surrogate as U+FFFD, as a browser does; else lupa's own encoding would
    fail inside the VM."""
    if text.isascii():
        return text
    try:
        return text.encode()
    except UnicodeEncodeError:
        return well_formed(text).encode()


def lua_text(value: str) -> str:
    """A Lua string as lupa reads it (Latin-1: one char per byte) as text: its
    bytes decoded as UTF-8 by wellformed.py's rule (what is not UTF-8 is U+FFFD).
    Applied once, where the string enters the host."""
    if value.isascii():
        return value
    data = value.encode("latin-1")
    try:
        return data.decode("utf-8")  # inline: the common case, valid UTF-8, costs no call of from_utf8
    except UnicodeDecodeError:
        return from_utf8(data)


def _big_int(value: int) -> float:
    """lupa's overflow handler: an int no Lua integer holds is a float, as in
    Lua's own arithmetic (infinite beyond the float range)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


class _Raised(Exception):  # noqa: N818 - a signal, not an error of its own
    """What fails the Lua call of a host function; the error itself waits in
    ``_LuaVM.raised``.

    lupa turns an exception in a Python callback into a Lua error whose
    value is the exception object: a userdata that a spell could catch (with
    pcall, or in a ``<close>`` handler).  This class refuses to become a Lua
    value: lupa looks up ``__getitem__`` to convert an object, and here that
    lookup fails, so lupa raises its plain string "error during Python call"
    instead.  Whatever catches that string in the prelude (pcall, xpcall,
    resume, the run) swaps in the error table.
    """

    @property
    def __getitem__(self) -> Any:
        raise TypeError("a host error is not a Lua value")


class _Failed:
    """What a host function returns to fail its Lua call (see _LuaVM._fail).

    Converting it, lupa looks up ``__getitem__``, which raises _Raised from
    here.  Raised this way, after the host function has returned, the
    exception lupa keeps (until the next one) has a traceback with none of
    the host function's frames: their locals hold lupa's wrappers of the
    spell's arguments, which point at the Lua thread (coroutine) that made
    the call, and freeing one after Lua has collected that thread writes to
    freed memory (lupa's issue #84: the host process crashes).
    """

    __slots__ = ()

    @property
    def __getitem__(self) -> Any:
        raise _Raised


_FAILED = _Failed()


def _deny_attributes(obj: Any, name: Any, setting: bool) -> Any:
    raise AttributeError("Python attributes are not reachable from a spell")


#: Python values that are already the Lua value lupa makes of them (no walk).
_LUA_PLAIN = frozenset({bool, float})


class _LuaMaker(ValueMaker):
    """Lua's hooks of the one conversion walker (values.make)."""

    language = "Lua"

    def __init__(self, vm: _LuaVM) -> None:
        self.vm = vm

    def scalar(self, value: bool | int | float | str) -> Any:
        if isinstance(value, str):
            return lua_str(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value if -(1 << 63) <= value < (1 << 63) else _big_int(value)
        return value

    def null(self) -> Any:
        return self.vm.null

    def array(self, items: list) -> Any:
        # Marked as an array (the prelude's ARRAY_MT), so that an empty one stays one; a
        # null keeps its place as the null sentinel (json.null), Lua's nil would not.
        t, null = self.vm.new_array(), self.vm.null
        for i, v in enumerate(items, 1):
            t[i] = null if v is None else v
        return t

    def table(self, items: list[tuple[Any, Any]]) -> Any:
        t = self.vm.lua.table()
        for k, v in items:
            t[lua_str(k) if isinstance(k, str) else k] = v
        return t

    def handle(self, value: HostHandle) -> Any:
        vm = self.vm
        obj = vm._object(value.bridge, dict(value.bridge.script_attributes()), handle=True)
        # Known by the table's identity, which no spell can forge (a field
        # could be copied into any table): the host keeps the table alive,
        # so its address is not reused during the run.
        vm._handles[vm.setup.address(obj)] = (value, obj)
        return obj

    def error(self, value: SpellError) -> Any:
        return self.vm.error_table(value)


class _LuaReader(ValueReader):
    """Lua's hooks of the one reading walker (values.read).  Values are read
    raw (lua_type, items() which is lua_next, rawget): no metamethod of the
    spell's runs here, outside the count hook."""

    what = "a table"

    def __init__(self, vm: _LuaVM) -> None:
        self.vm = vm
        self.lua_type = vm.lua_type

    def read(self, value: Any, path: str) -> tuple[int, Any]:
        vm = self.vm
        t = self.lua_type(value)
        if t is None:
            if type(value) is str:
                return READY, lua_text(value)
            if type(value) in SCALARS:
                return READY, value
            # lupa unwraps a Python object it once gave Lua; no spell should hold one.
            raise SpellError("invalid_argument", f"{path or 'value'}: this value cannot be passed to the host")
        if t == "table":
            if vm._handles:
                held = vm._handles.get(vm.setup.address(value))
                if held is not None:
                    return READY, held[0]
            items = list(value.items())
            n = len(items)
            # The marks (json.null, an array's metatable) are asked of Lua only where they
            # change the reading: an empty table, or integer keys that are not 1..n.
            if not n:
                if vm.rawequal(value, vm.null):
                    return READY, None
                return (ARRAY, items) if vm.is_array(value) else (TABLE, items)
            if all(type(k) is int for k, _ in items):
                if {k for k, _ in items} == set(range(1, n + 1)):
                    items.sort(key=lambda kv: kv[0])
                    return ARRAY, items
                if vm.is_array(value):
                    return ARRAY, self._array(items, path)
            elif any(type(k) is int for k, _ in items) and vm.is_array(value):
                return ARRAY, self._array(items, path)
            return TABLE, [(lua_text(k) if type(k) is str else self._key(k, path), v) for k, v in items]
        if t == "function":
            # Held past this call: re-made on the main thread (a wrapper made during a
            # call from a coroutine points at that coroutine, which Lua may free).
            fn = vm.anchor(value)
            return READY, ScriptFunction(lambda *args, f=fn: vm.call_function(f, args), "function", "lua")
        raise SpellError("invalid_argument", f"{path or 'value'}: a Lua {t} cannot be passed to the host")

    @staticmethod
    def _array(items: list, path: str) -> list:
        """The items of a table marked as an array (json.array, or from the
        host): keys 1..n, a nil in between is refused (json.null keeps a place)."""
        for k, _ in items:
            if type(k) is not int:
                key = lua_text(k) if type(k) is str else k
                raise SpellError("invalid_argument", f"{path or 'value'}: a table marked as an array has the "
                                                     f"key {key!r}", hint="remove the mark or the key")
        items.sort(key=lambda kv: kv[0])
        for i, (k, _) in enumerate(items, 1):
            if k != i:
                raise SpellError("invalid_argument", f"{path or 'value'}[{i}]: an array has a hole here",
                                 hint="use json.null for a null inside an array")
        return items

    def identity(self, table: Any) -> Any:
        return self.vm.setup.address(table)

    def _key(self, key: Any, path: str) -> str:
        """A table key that is not a string, as the host's dict key.  Never
        str() of a Lua object: that runs its __tostring, outside the limits."""
        if type(key) is bool:
            return "true" if key else "false"
        if type(key) is int:
            return str(key)
        if type(key) is float:  # as JavaScript names the same key (a Lua key 2.0 is already 2)
            return js_number(key) if math.isfinite(key) else "Infinity" if key > 0 else "-Infinity"
        where = f"{path}: " if path else ""
        raise SpellError("invalid_argument", f"{where}a table key must be a string or a number, "
                                             f"not a Lua {self.lua_type(key) or 'value'}",
                         hint="use string keys for tables passed to the host")


class LuaEngine(Engine):
    language = "lua"
    run_imports = ("lupa.lua54",)

    def check(self, source: str, filename: str, names: Collection[str]) -> None:  # Lua resolves no names
        import lupa.lua54 as lupa

        lua = lupa.LuaRuntime(register_eval=False, register_builtins=False, attribute_filter=_deny_attributes)
        out = lua.globals().load(source, "=" + filename, "t", lua.table())
        chunk, err = out if isinstance(out, tuple) else (out, None)
        if chunk is None:
            raise _syntax_error(str(err), source, filename)


class _LuaVM(ScriptVM):
    """One fresh Lua state for one run."""

    def __init__(self, host: SpellRun) -> None:
        import lupa.lua54 as lupa

        super().__init__(host)
        self.lupa = lupa
        self.lua = lupa.LuaRuntime(
            register_eval=False, register_builtins=False, unpack_returned_tuples=True, encoding="latin-1",
            attribute_filter=_deny_attributes, max_memory=host.limits.max_memory, overflow_handler=_big_int,
        )
        self.lua_type = lupa.lua_type
        self.instructions = 0
        #: Host handles given to the spell, by their table's address: (handle, table).
        self._handles: dict[str, tuple[HostHandle, Any]] = {}
        self.async_methods: list[tuple[MethodSpec, Bridge]] = []
        # Taken before any spell code can run (a spell may replace the globals).
        self.rawget, self.raw_tostring = self.lua.globals().rawget, self.lua.globals().tostring
        self.raised: SpellError | None = None  # see _Raised
        self.maker, self.reader = _LuaMaker(self), _LuaReader(self)
        prelude = self.lua.globals().load(_PRELUDE, "=(llmspell)")
        # The count hook asks the host every so many instructions: often enough to
        # keep an instruction budget to within 1000, else every 10000 (a timeout
        # is still seen within well under a millisecond).
        every = 1000 if host.limits.max_instructions is not None else 10_000
        setup = prelude(self._safe(self._check), self._safe(self._print), self._safe(self._take_raised),
                        secrets.token_hex(8), every)
        self.setup = setup
        self.rawequal = setup.rawequal
        self.HOSTCALL, self.DONE, self.FAIL = setup.HOSTCALL, setup.DONE, setup.FAIL
        self.mkerror, self.anchor = setup.mkerror, setup.anchor
        self.null, self.new_array, self.is_array = setup.null, setup.new_array, setup.is_array

    def install(self, bridges: Mapping[str, Bridge], code: Mapping[str, str], params: dict[str, Any]) -> None:
        g = self.setup.env  # the spell's globals (not the VM's real ones, see the prelude)
        for name, bridge in bridges.items():
            g[name] = self._object(bridge, {})
        for name, text in code.items():  # what a bridge itself puts in the VM
            self.setup.install_bridge_code(lua_str(text), g[name])
        g.params = self.to_lua(params)

    # -- host functions called from Lua --------------------------------------
    def _check(self, n: int) -> Any:
        """The count hook: is a limit over?  Returns the error table if so."""
        self.instructions += n
        limits = self.host.limits
        if limits.max_instructions is not None and self.instructions > limits.max_instructions:
            return self.error_table(instructions_error(self.host))
        deadline = self.host.deadline
        if deadline is not None and time.monotonic() > deadline:
            return self.error_table(self.host.timeout_error())
        return None

    def _print(self, text: str) -> None:
        self.host.print(self.text(text))

    #: A string from Lua as text (see lua_text).
    text = staticmethod(lua_text)

    def _safe(self, fn: Any) -> Any:
        """Wrap a Python function for Lua: its errors fail the Lua call with
        plain data (see _Raised), never a live Python exception."""

        def call(*args: Any) -> Any:
            try:
                return fn(*args)
            except Exception as exc:
                return self._fail(exc, "host call")

        return call

    def _fail(self, exc: BaseException, where: str) -> _Failed:
        """What a host function returns to fail the Lua call in progress with
        this error (see _Raised and _Failed).  The error keeps no traceback:
        its frames would keep the spell's values alive (see _Failed)."""
        if not isinstance(exc, SpellError):
            out_of_memory = isinstance(exc, (MemoryError, self.lupa.LuaMemoryError))
            exc = self.host.memory_error() if out_of_memory else internal_error(where, exc)
        exc.__traceback__ = exc.__context__ = exc.__cause__ = None
        self.raised = exc
        return _FAILED

    def _take_raised(self) -> Any:
        """The prelude's side of _Raised: the error table of the host error
        that failed a call, once (nil if there is none)."""
        exc, self.raised = self.raised, None
        return None if exc is None else self.error_table(exc)

    def error_table(self, exc: SpellError) -> Any:
        """The error value (see _error_values) as a Lua table; ``fatal``: the
        prelude's pcall/xpcall/resume re-raise it."""
        value = error_value(exc)
        t = self.mkerror(value.pop("kind"), lua_str(value.pop("message")))
        for key, v in value.items():
            t[key] = lua_str(v) if type(v) is str else v
        return t

    # -- objects -------------------------------------------------------------
    def _object(self, bridge: Bridge, fields: dict, handle: bool = False) -> Any:
        methods = self.lua.table()
        dynamic = None
        owner: list = [None]
        for name, spec in bridge.specs.items():
            entry = self.lua.table()
            if spec.is_async:
                self.async_methods.append((spec, bridge))
                entry["async"] = True
                entry["id"] = len(self.async_methods)
                if name == bridge.dynamic_method:
                    dynamic = entry["id"]
            else:
                entry["async"] = False
                entry["fn"] = self._sync_caller(spec, bridge, owner)
            methods[name] = entry
        owner[0] = self.setup.make_object(methods, self.to_lua(fields), dynamic, handle)
        return owner[0]

    def _sync_caller(self, spec: MethodSpec, bridge: Bridge, owner: list) -> Any:
        """The Python function behind a synchronous method, which Lua calls
        directly (the prelude makes it a C function: no Lua wrapper, no
        Python object in sight): the one call path (dispatch.sync_caller)
        with Lua's conversions, its receiver, and errors that fail the call
        through _fail."""
        rawequal, lua_type, qualname = self.rawequal, self.lua_type, spec.qualname

        def receiver(args: tuple) -> tuple:
            # obj:method(...) on a bridge global passes the global first; it is not an argument.
            if args and owner[0] is not None and lua_type(args[0]) == "table" and rawequal(args[0], owner[0]):
                return args[1:]
            return args

        return dispatch.sync_caller(self.host, spec, bridge, LUA, to_python=self.to_python, to_script=self.to_lua,
                                    fail=lambda exc: self._fail(exc, qualname), receiver=receiver, safe=_LUA_SAFE,
                                    text=lua_text)

    # -- conversion ----------------------------------------------------------
    def to_python(self, value: Any) -> Any:
        """A Lua value as a ScriptValue (values.read with Lua's hooks, _LuaReader)."""
        if type(value) in SCALARS:  # as they are: no walk (lupa gives Lua's scalars as these)
            return self.text(value) if type(value) is str else value
        return read(value, self.reader)

    def to_lua(self, value: Any) -> Any:
        """A ScriptValue as a Lua value (values.make with Lua's hooks, _LuaMaker)."""
        if value is None or type(value) in _LUA_PLAIN:  # as they are: no walk
            return value
        return make(value, self.maker)

    # -- running ---------------------------------------------------------------
    async def execute(self, source: str) -> Any:
        host = self.host
        out = self.setup.compile(lua_str(source), lua_str(host.filename))
        chunk, err = out if isinstance(out, tuple) else (out, None)
        if chunk is None:
            raise _syntax_error(lua_text(str(err)), source, host.filename)
        results = await self._drive(self.setup.run.coroutine(chunk))
        return self.to_python(results[0]) if results else None

    async def call_function(self, fn: Any, args: tuple) -> Any:
        results = await self._drive(self.setup.run.coroutine(fn, *[self.to_lua(a) for a in args]))
        return self.to_python(results[0]) if results else None

    async def _drive(self, co: Any) -> tuple:
        """Resume the coroutine until it finishes, serving its host calls."""
        host = self.host
        value: Any = None
        first = True
        while True:
            try:
                out = co.send(None) if first else co.send(value)
            except self.lupa.LuaMemoryError:
                raise host.memory_error() from None
            except self.lupa.LuaError as exc:
                raise self._runtime_error(lua_text(str(exc)), "") from None
            first = False
            if not isinstance(out, tuple):
                out = (out,)
            tag = out[0] if out else None
            if tag == self.DONE:
                return out[1:]
            if tag == self.FAIL:
                raise self._failure(self.to_python(out[1]) if type(out[1]) is str else out[1],
                                    self.text(out[2]) if len(out) > 2 and type(out[2]) is str else "")
            if tag != self.HOSTCALL:
                raise SpellError("runtime_error", "coroutine.yield called outside a coroutine",
                                 file=host.filename, hint="yield only inside coroutine.create/wrap")
            spec, bridge = self.async_methods[out[1] - 1]
            try:
                # The prelude's own table.pack: read raw (lupa's indexing would
                # go through Lua; nothing of the spell's may run here).
                packed = dict(out[2].items())
                args = [self.to_python(packed.get(i)) for i in range(1, packed.get("n", 0) + 1)]
                result = await self._await_call(spec, bridge, args)
                value = (True, self.to_lua(result))
            except SpellError as exc:
                if is_run_limit(exc):
                    raise
                value = (False, self.error_table(exc))

    async def _await_call(self, spec: MethodSpec, bridge: Bridge, args: list) -> Any:
        host = self.host
        call = dispatch.call_async(host, spec, bridge, args, LUA)
        return await before_deadline(host, call)

    # -- errors ----------------------------------------------------------------
    def _stack(self, tb: str) -> list[Frame]:
        frames = []
        for line in str(tb or "").splitlines():
            m = _TB_FRAME.match(line)
            if m and m.group("file") == self.host.filename:
                what = m.group("what").strip()
                name = None
                fm = re.search(r"(?:function|local|upvalue|field|method|global) '([^']+)'", what)
                if fm:
                    name = fm.group(1)
                elif "main chunk" in what:
                    name = "main chunk"
                frames.append(Frame(m.group("file"), int(m.group("line")), name))
        return frames

    def _failure(self, err: Any, tb: Any) -> SpellError:
        stack = self._stack(tb)
        if self.lua_type(err) == "table":
            # rawget: a spell's error table may have metamethods; host code must not run them.
            get = self.rawget
            kind, message, where, hint, fatal = (lua_text(v) if type(v) is str else v for v in
                                                 (get(err, k) for k in ("kind", "message", "where", "hint", "fatal")))
            # Never str() of a Lua table: that would run its __tostring here, outside the limits.
            if isinstance(kind, str) and type(message) in (str, int, float):
                return from_error_value(kind, message, where, hint, fatal, stack)
            return SpellError("runtime_error", "the spell raised a table that is not an error {kind, message}",
                              file=self.host.filename,
                              line=stack[0].line if stack else None, stack=stack)
        if err == "not enough memory" or (err == "error in error handling" and self.host.limits.max_memory):
            return self.host.memory_error()
        return self._runtime_error(err if isinstance(err, str) else self._tostring(err), tb, stack)

    def _tostring(self, value: Any) -> str:
        """An error value that is neither a string nor a table, as text,
        without running any metamethod (only numbers go through Lua)."""
        if type(value) in (int, float):
            try:
                return str(self.raw_tostring(value))
            except Exception:
                return str(value)
        if type(value) is bool or value is None:
            return {True: "true", False: "false", None: "nil"}[value]
        return f"(error object is a {self.lua_type(value) or 'host'} value)"

    def _runtime_error(self, text: str, tb: Any, stack: list[Frame] | None = None) -> SpellError:
        m = _LOC.match(text)
        if m:
            return SpellError("runtime_error", m.group("msg"), file=m.group("file"), line=int(m.group("line")),
                              stack=stack if stack is not None else self._stack(tb))
        return SpellError("runtime_error", text, file=self.host.filename, stack=stack or [])


def _syntax_error(text: str, source: str, filename: str) -> SpellError:
    m = _LOC.match(text)
    if not m:
        return SpellError("syntax_error", text, file=filename)
    msg = m.group("msg")
    near = re.search(r"near '(.+)'$", msg)
    return syntax_error(msg, m.group("file"), source, int(m.group("line")), near=near and near.group(1),
                        at_end="<eof>" in msg)


LuaEngine.vm_class = _LuaVM
