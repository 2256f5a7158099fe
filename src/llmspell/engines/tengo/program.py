"""A compiled Tengo program, the public entry point of the Tengo interpreter.

>>> prog = compile_program('out = len("abc") + 1', globals_names=["out"])
>>> prog.run({"out": 0}).globals["out"]
4

:func:`compile_program` parses and compiles once (raising
:class:`~.errors.TengoParseError` / :class:`~.errors.TengoCompileError`);
:meth:`Program.run` runs it any number of times, each run with fresh state,
and raises :class:`~.errors.TengoRuntimeError` for a script error.  Errors a
host function raises as :class:`~llmspell.errors.SpellError` and whatever
``check_interrupt`` raises pass through unchanged.
"""

from __future__ import annotations

import bisect
import itertools
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from types import CodeType, TracebackType
from typing import Any

from llmspell.errors import SpellError, host_error

from . import builtins as _builtins
from .compiler import MAX_FRAMES, CompiledCode, compile_code
from .errors import TengoCompileError, TengoRuntimeError, TengoScriptError
from .memory import Memory
from .objects import UNDEFINED, AllocationLimit, Builtin, Function, ImmutableMap, TengoError
from .operations import HELPERS, ProgramLimits, call_target, immutable, reset_limits, set_limits

#: Loop iterations / calls between two ``check_interrupt`` calls.
TICK = 1024
#: At most this many ``at FILE:LINE:COL`` frames in a runtime error.
MAX_TRACE = 32

_BASE_GLOBALS: dict[str, Any] = {**HELPERS, **_builtins.helper_names()}
_ids = itertools.count(1)

ModuleLoader = Callable[[str], "str | ImmutableMap | None"]


@dataclass
class RunResult:
    """What a run leaves: the script's top-level variables and, for a program
    compiled with ``as_module=True``, the value it exported."""

    globals: dict[str, Any]
    exported: Any = UNDEFINED
    _program: Program | None = field(default=None, repr=False)
    _state: _RunState | None = field(default=None, repr=False)

    def call(self, fn: Any, *args: Any) -> Any:
        """Call a Tengo function value from the host (a callback), with the
        same error handling as the run itself (errors carry Tengo positions)."""
        assert self._program is not None and self._state is not None
        return self._program._call_in(self._state, fn, args)


class StopFlag:
    """Set by the host to end a run (its time is up, or it ended another way):
    the run stops at its next tick or call of a builtin, so nothing more it
    does, such as writing a file, happens after its host has moved on."""

    __slots__ = ("requested",)

    def __init__(self) -> None:
        self.requested = False

    def error(self) -> SpellError:
        return SpellError("cancelled", "the spell was stopped")


class _RunState:
    """Per-run mutable state: the generated code's globals and the interrupt hook."""

    __slots__ = ("check_interrupt", "g", "interrupt", "limits")

    def __init__(self, g: dict[str, Any], check_interrupt: Callable[[], None] | None, limits: ProgramLimits) -> None:
        self.g = g
        self.check_interrupt = check_interrupt
        self.interrupt: BaseException | None = None
        self.limits = limits


class Program:
    """A compiled Tengo program (main script plus its source modules)."""

    def __init__(self, code: CompiledCode, filename: str, limits: ProgramLimits, as_module: bool) -> None:
        self.filename = filename
        self.compiled = code
        self.limits = limits
        self.as_module = as_module
        self._pyfile = f"<tengo#{next(_ids)}:{filename}>"
        try:
            self._code = compile(code.source, self._pyfile, "exec")
        except (SyntaxError, RecursionError, MemoryError):
            # only nesting beyond CPython's parser limits gets here
            raise TengoCompileError("expression nested too deeply", [(filename, 1, 1)]) from None
        self._positions: dict[CodeType, list[tuple[Any, ...]]] = {}

    # --- running ----------------------------------------------------------------

    def run(self, globals: dict[str, Any] | None = None, *,
            check_interrupt: Callable[[], None] | None = None, memory: Memory | None = None,
            stop: StopFlag | None = None) -> RunResult:
        """Run the program once.

        ``globals`` gives values for the names declared with ``globals_names``
        (missing ones are ``undefined``); they must be Tengo values
        (:mod:`.objects`).  ``check_interrupt`` is called every
        :data:`TICK` loop iterations or function calls; whatever it raises
        stops the script and propagates unchanged.  ``memory`` is the run's
        memory budget, read at the same ticks (``memory_limit`` at the
        script's position when it is spent).  Once ``stop.requested`` is
        set, the next tick or call of a builtin raises ``cancelled``.
        """
        state = self._new_state(check_interrupt, memory, stop)
        values = globals or {}
        args = [values.get(name, UNDEFINED) for name in self.compiled.global_names]
        exported, result = self._guarded(state, state.g["_main"], args)
        return RunResult(result, exported, self, state)

    def _call_in(self, state: _RunState, fn: Any, args: tuple) -> Any:
        if not isinstance(fn, (Function, Builtin)):
            raise TengoRuntimeError(f"not callable: {type(fn).__name__}")
        return self._guarded(state, lambda *a: call_target(fn, len(a))(*a), list(args))

    def _new_state(self, check_interrupt: Callable[[], None] | None, memory: Memory | None = None,
                   stop: StopFlag | None = None) -> _RunState:
        g: dict[str, Any] = dict(_BASE_GLOBALS)
        g.update(self.compiled.constants)
        g["__builtins__"] = {}
        g["_d"] = 0
        g["_t"] = TICK
        limits = ProgramLimits(self.limits.max_string_len, self.limits.max_bytes_len, memory)
        state = _RunState(g, check_interrupt, limits)

        def tick() -> None:
            g["_t"] = TICK
            if stop is not None and stop.requested:
                raise stop.error()
            if memory is not None:
                memory.sample()
            if state.check_interrupt is not None:
                try:
                    state.check_interrupt()
                except BaseException as e:
                    state.interrupt = e
                    raise

        def enter() -> None:
            if g["_d"] > MAX_FRAMES:
                raise TengoError("stack overflow")
            if g["_t"] < 0:
                tick()

        cache: dict[str, Any] = {}

        def imp(func: str) -> Any:
            if func in cache:
                return cache[func]
            value = g[func]()
            cache[func] = value
            return value

        g["_tick"] = tick
        g["_enter"] = enter
        g["_imp"] = imp
        if self.compiled.max_allocs is not None:
            left = [self.compiled.max_allocs]

            def count(value: Any) -> Any:
                left[0] -= 1
                if left[0] < 0:
                    raise AllocationLimit()
                return value

            def counted_target(f: Any, nargs: int) -> Callable[..., Any]:
                target = call_target(f, nargs)
                if type(f) is Builtin:
                    return lambda *a: count(target(*a))
                return target

            g["_A"] = count
            g["_cs"] = counted_target
        if stop is not None:
            target = g["_cs"]

            def stoppable_target(f: Any, nargs: int) -> Callable[..., Any]:
                if stop.requested:
                    raise stop.error()
                return target(f, nargs)

            g["_cs"] = stoppable_target
        exec(self._code, g)
        return state

    def _guarded(self, state: _RunState, fn: Callable[..., Any], args: list) -> Any:
        needed = MAX_FRAMES * 4 + 1000 + _depth()
        if sys.getrecursionlimit() < needed:
            sys.setrecursionlimit(needed)
        token = set_limits(state.limits)
        try:
            return fn(*args)
        except TengoScriptError:
            raise
        except BaseException as e:
            if e is state.interrupt:
                state.interrupt = None
                raise
            trace = self._trace(e.__traceback__)
            if isinstance(e, TengoError):
                raise self._runtime_error(str(e), trace) from None
            if isinstance(e, SpellError):
                if e.file is None and trace:
                    e.file, e.line, e.column = trace[0]
                raise
            if isinstance(e, MemoryError):
                raise SpellError("memory_limit", "the spell used more memory than its limit allows",
                                 file=trace[0][0] if trace else self.filename, line=trace[0][1] if trace else None,
                                 hint="raise it with --max-memory SIZE", run_limit=True) from None
            if isinstance(e, RecursionError):
                raise self._runtime_error("stack overflow", trace) from None
            if isinstance(e, Exception):
                mapped = host_error(e)  # the API's kind and a message in the spell's terms
                err = self._runtime_error(mapped.message, trace, mapped.kind)
                err.hint = mapped.hint
                raise err from None
            raise
        finally:
            reset_limits(token)

    # --- error positions --------------------------------------------------------

    def _runtime_error(self, message: str, trace: list[tuple[str, int, int]],
                       kind: str = "runtime_error") -> TengoRuntimeError:
        source_line = None
        if trace:
            src = self._source_for(trace[0][0])
            if src is not None:
                source_line = src.line_text(trace[0][1])
        return TengoRuntimeError(message, trace, source_line, kind)

    def _source_for(self, name: str) -> Any:
        for src, _ in self.compiled.positions:
            if src.name == name:
                return src
        return None

    def _trace(self, tb: TracebackType | None) -> list[tuple[str, int, int]]:
        """Tengo positions of the generated frames in ``tb``, innermost first."""
        out = []
        while tb is not None:
            code = tb.tb_frame.f_code
            if code.co_filename == self._pyfile:
                where = self._where(code, tb.tb_lasti)
                if where is not None:
                    out.append(where)
            tb = tb.tb_next
        out.reverse()
        if len(out) > MAX_TRACE:  # deep recursion: the innermost frames say enough
            out = out[:MAX_TRACE]
        return out

    def _where(self, code: CodeType, lasti: int) -> tuple[str, int, int] | None:
        positions = self._positions.get(code)
        if positions is None:
            positions = list(code.co_positions())
            self._positions[code] = positions
        idx = lasti // 2
        if idx >= len(positions):
            return None
        line, _, col, _ = positions[idx]
        if line is None:
            return None
        marks = self.compiled.marks
        col = col or 0
        while line >= 1:
            row = marks.get(line)
            if row:
                i = bisect.bisect_right(row, (col, sys.maxsize)) - 1
                if i >= 0:
                    src, offset = self.compiled.positions[row[i][1]]
                    return src.where(offset)
            line -= 1
            col = sys.maxsize
        return None


def _depth() -> int:
    f = sys._getframe()
    n = 0
    while f is not None:
        n += 1
        f = f.f_back
    return n


def compile_program(source: str, filename: str = "(main)", *, globals_names: list[str] | tuple[str, ...] = (),
                    module_loader: ModuleLoader | None = None, max_allocs: int | None = None,
                    max_string_len: int | None = None, max_bytes_len: int | None = None,
                    as_module: bool = False) -> Program:
    """Parse and compile a Tengo script.

    ``globals_names`` are variables the host defines before each run (their
    values are given to :meth:`Program.run`).  ``module_loader(name)`` answers
    ``import(name)``: an ``ImmutableMap`` (a builtin module), Tengo source
    text (a source module, compiled now, run once per run), or ``None``
    (``module 'name' not found``).  ``max_allocs`` limits the objects a run
    may allocate; ``max_string_len``/``max_bytes_len`` lower the size limits.
    With ``as_module`` the script's ``export`` ends it and gives
    :attr:`RunResult.exported` (as in a module); otherwise ``export`` is
    ignored, as the reference does for a main script.
    """
    default = ProgramLimits()
    limits = ProgramLimits(max_string_len or default.max_string_len, max_bytes_len or default.max_bytes_len)
    code = compile_code(source, filename, globals_names, module_loader, max_allocs, as_module)
    return Program(code, filename, limits, as_module)


__all__ = ["Memory", "Program", "RunResult", "StopFlag", "compile_program", "immutable"]
