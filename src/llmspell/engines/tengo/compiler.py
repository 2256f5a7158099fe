"""Tengo syntax tree to Python source code.

Speed comes from letting CPython run the script as ordinary Python functions:
each Tengo function becomes a nested ``def`` (closures and captured variables
map onto Python's), each Tengo variable a Python local with a mangled name
(``t_<name>_<n>``, so a script can never name anything but its own
variables), and each operation either an inline fast path for ints or a call
of a runtime helper (:mod:`.operations`).  The generated code's globals hold only
those helpers, and ``__builtins__`` is empty.

Names resolve at compile time exactly as the reference resolves them
(block scopes, ``:=`` declares, ``=`` needs an existing variable), so the
reference's compile errors come out here.

Runtime error positions cost nothing at run time: every operation that can
fail is preceded in the generated text by a marker, and the markers' columns
are recorded; when an exception unwinds, the interpreter maps each
generated frame's current instruction (Python 3.11 keeps columns per
instruction) back to the Tengo file, line and column.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import nodes as n
from .builtins import FUNCTIONS
from .errors import SourceFile, TengoCompileError, TengoScriptError
from .objects import Char
from .parser import parse

MAX_FRAMES = 1024
_MARK = re.compile("\x01(\\d+)\x02")

_BUILTINS = frozenset(FUNCTIONS)

_CMP_OPS = {"<": "_lt", "<=": "_le", ">": "_gt", ">=": "_ge"}
_ARITH_OPS = {"+": "_add", "-": "_sub", "*": "_mul"}
_OTHER_OPS = {"/": "_div", "%": "_mod", "&": "_band", "|": "_bor", "^": "_bxor", "&^": "_bandnot",
              "<<": "_shl", ">>": "_shr"}
_BOOL_NODES = (n.BoolLit,)


class Var:
    """A Tengo variable.  A *boxed* one lives in a one-element list: a variable
    declared in a loop body and captured by a closure is a new variable each
    iteration in the reference, so each closure must keep its own box."""

    __slots__ = ("boxed", "fs", "name", "py")

    def __init__(self, name: str, py: str, fs: FuncState, boxed: bool = False) -> None:
        self.name = name
        self.py = py
        self.fs = fs
        self.boxed = boxed


class Scope:
    __slots__ = ("fs", "names", "parent")

    def __init__(self, parent: Scope | None, fs: FuncState) -> None:
        self.parent = parent
        self.fs = fs
        self.names: dict[str, Var] = {}


@dataclass
class FuncState:
    """One generated Python function (the main script, a module, or a Tengo function)."""

    kind: str  # "main", "module" or "func"
    parent: FuncState | None
    lines: list[str] = field(default_factory=list)
    indent: int = 1
    nonlocals: set[str] = field(default_factory=set)
    loops: list[Any] = field(default_factory=list)  # post-statement emitter per enclosing loop
    self_var: Var | None = None
    self_obj: str | None = None
    params: list[Var] = field(default_factory=list)
    tco: bool = False
    has_free: bool = False  # captures a variable of an enclosing function (a closure, for max_allocs)
    captured: set[str] = field(default_factory=set)  # names used by nested function literals
    box_params: set[str] = field(default_factory=set)  # boxes of outer variables bound at creation
    prelude: list[str] = field(default_factory=list)
    weight: int = 1  # ticks one call of this function counts (see _weight)
    loop_weights: list[int] = field(default_factory=list)  # the same for each enclosing loop

    def emit(self, text: str) -> None:
        self.lines.append("    " * self.indent + text)


@dataclass
class Module:
    """A compiled source module: its generated function's name."""

    name: str
    func: str


@dataclass(frozen=True)
class SourceModule:
    """What a module loader may answer for a file: its ``name`` (its identity
    in the program, and what errors in it show), its ``source``, and the
    ``loader`` of the imports written inside it (a relative path there starts
    from that file's folder, not the main script's)."""

    name: str
    source: str
    loader: Callable[[str], Any] | None


@dataclass
class CompiledCode:
    """The generated Python source plus what the interpreter needs to run it."""

    source: str
    main: str
    global_names: list[str]
    constants: dict[str, Any]
    positions: list[tuple[SourceFile, int]]
    marks: dict[int, list[tuple[int, int]]]  # generated line -> sorted [(col, position index)]
    max_allocs: int | None


def _ascii_name(name: str) -> str:
    return name if name.isascii() else "u" + name.encode("utf-8").hex()


class Compiler:
    """Compiles one program: the main script and every source module it imports."""

    def __init__(self, globals_names: list[str] | tuple[str, ...],
                 module_loader: Callable[[str], Any] | None, max_allocs: int | None,
                 as_module: bool = False) -> None:
        self.as_module = as_module
        self.top: Scope | None = None
        self.globals_names = list(globals_names)
        self.module_loader = module_loader
        self.max_allocs = max_allocs
        self.counter = 0
        self.positions: list[tuple[SourceFile, int]] = []
        self.constants: dict[str, Any] = {}
        self.const_ids: dict[Any, str] = {}
        self.modules: dict[str, Module | str] = {}  # name -> Module or constant name (builtin modules)
        self.files: dict[str, Module] = {}  # SourceModule.name -> Module
        self.importing: list[str] = []
        self.out_funcs: list[list[str]] = []  # generated top-level defs (modules), in order
        self.src: SourceFile | None = None
        self.fs: FuncState | None = None
        self.scope: Scope | None = None

    # --- helpers ------------------------------------------------------------

    def uid(self) -> int:
        self.counter += 1
        return self.counter

    def error(self, node: n.Node | int, message: str) -> TengoCompileError:
        assert self.src is not None
        pos = node if isinstance(node, int) else node.pos
        where = self.src.where(pos)
        return TengoCompileError(message, [where], self.src.line_text(where[1]))

    def mark(self, node: n.Node | int) -> str:
        """A marker for the position the reference reports for ``node``."""
        assert self.src is not None
        self.positions.append((self.src, node if isinstance(node, int) else node.pos))
        return f"\x01{len(self.positions) - 1}\x02"

    def const(self, value: Any, key: Any = None) -> str:
        key = key if key is not None else (type(value).__name__, repr(value))
        name = self.const_ids.get(key)
        if name is None:
            name = f"_k{len(self.const_ids)}"
            self.const_ids[key] = name
            self.constants[name] = value
        return name

    def alloc(self, code: str) -> str:
        return f"_A({code})" if self.max_allocs is not None else code

    # --- scopes ---------------------------------------------------------------

    def push_scope(self) -> None:
        assert self.fs is not None
        self.scope = Scope(self.scope, self.fs)

    def pop_scope(self) -> None:
        assert self.scope is not None
        self.scope = self.scope.parent

    def define(self, name: str, node: n.Node | int, per_iteration: bool = False) -> Var:
        assert self.scope is not None and self.fs is not None
        if name in self.scope.names:
            raise self.error(node, f"'{name}' redeclared in this block")
        fs = self.fs
        boxed = fs.kind != "main" and bool(fs.loops or per_iteration) and name in fs.captured
        var = Var(name, f"t_{_ascii_name(name)}_{self.uid()}", fs, boxed)
        self.scope.names[name] = var
        return var

    def resolve(self, name: str) -> Var | None:
        s = self.scope
        while s is not None:
            v = s.names.get(name)
            if v is not None:
                return v
            s = s.parent
        return None

    def read(self, var: Var) -> str:
        """Code reading ``var`` from the current function."""
        if var.fs is not self.fs and var.fs.kind != "main":
            fs = self.fs
            while fs is not None and fs is not var.fs:
                fs.has_free = True
                if var.boxed:
                    fs.box_params.add(var.py)
                fs = fs.parent
        return var.py + "[0]" if var.boxed else var.py

    def assign_target(self, var: Var) -> str:
        """The Python name to assign ``var`` from the current function."""
        assert self.fs is not None
        if var.boxed:
            return self.read(var)
        if var.fs is not self.fs:
            self.fs.nonlocals.add(var.py)
            if var.fs.kind != "main":
                fs: FuncState | None = self.fs
                while fs is not None and fs is not var.fs:
                    fs.has_free = True
                    fs = fs.parent
        return var.py

    # --- entry points -----------------------------------------------------------

    def compile_main(self, source: str, filename: str) -> CompiledCode:
        src = SourceFile(filename, source)
        tree = parse(src)
        self.src = src
        fs = FuncState("main", None)
        self.fs = fs
        self.scope = Scope(None, fs)
        params = []
        for name in self.globals_names:
            params.append(self.define(name, 0).py)
        top = self.scope
        self.top = top
        self.block_stmts(tree.stmts)
        body = fs.lines
        names = self.top_dict()
        lines = [f"def _main({', '.join(params)}):", "    global _d, _t"]
        if fs.nonlocals:
            raise self.error(0, "internal error: nonlocal in main")
        lines += body
        lines.append(f"    return (_U, {names})")
        all_lines: list[str] = []
        for f in self.out_funcs:
            all_lines += f
        all_lines += lines
        return self.finish(all_lines)

    def finish(self, lines: list[str]) -> CompiledCode:
        marks: dict[int, list[tuple[int, int]]] = {}
        out = []
        for lineno, line in enumerate(lines, 1):
            if "\x01" in line:
                found = []
                while True:
                    m = _MARK.search(line)
                    if m is None:
                        break
                    found.append((m.start(), int(m.group(1))))
                    line = line[:m.start()] + line[m.end():]
                marks[lineno] = sorted(found)
            out.append(line)
        return CompiledCode(
            source="\n".join(out) + "\n",
            main="_main",
            global_names=self.globals_names,
            constants=self.constants,
            positions=self.positions,
            marks=marks,
            max_allocs=self.max_allocs,
        )

    def top_dict(self) -> str:
        """A dict display of the main script's top-level variables declared so far."""
        assert self.top is not None
        return "{" + ", ".join(f"{ascii(k)}: {v.py}" for k, v in self.top.names.items()) + "}"

    # --- modules ----------------------------------------------------------------

    def import_module(self, node: n.ImportExpr) -> str:
        name = node.name
        done = self.modules.get(name)
        if done is not None:
            if isinstance(done, Module):
                return f"{self.mark(node)}_imp({done.func!r})"
            return done
        if name in self.importing:
            raise self.error(node, f"cyclic module import: {name}")
        loader = self.module_loader
        found = loader(name) if loader is not None else None
        if found is None:
            raise self.error(node, f"module '{name}' not found")
        registry = self.modules
        if isinstance(found, SourceModule):
            registry = self.files
            # A file: known by what it is, not by the text that named it
            # (the same text names another file from another folder).
            known = self.files.get(found.name)
            if known is not None:
                return f"{self.mark(node)}_imp({known.func!r})"
            if found.name in self.importing:
                raise self.error(node, f"cyclic module import: {' -> '.join([*self.importing, found.name])}")
            name, found, loader = found.name, found.source, found.loader
        elif not isinstance(found, str):
            const = self.const(found, ("module", name))
            self.modules[name] = const
            return const
        # a source module: compile it into its own top-level function
        saved = (self.src, self.fs, self.scope, self.module_loader)
        self.importing.append(name)
        self.module_loader = loader
        try:
            src = SourceFile(name, found)
            tree = parse(src)
            self.src = src
            fs = FuncState("module", None)
            fs.captured = _captured_names(tree)
            self.fs = fs
            self.scope = Scope(None, fs)
            self.block_stmts(tree.stmts)
            func = f"_mod{self.uid()}"
            lines = [f"def {func}():", "    global _d, _t"] + fs.lines + ["    return _U"]
            self.out_funcs.append(lines)
            registry[name] = Module(name, func)
        finally:
            self.importing.pop()
            self.src, self.fs, self.scope, self.module_loader = saved
        return f"{self.mark(node)}_imp({func!r})"

    # --- statements -------------------------------------------------------------

    def flush(self) -> None:
        fs = self.fs
        assert fs is not None
        if fs.prelude:
            pad = "    " * fs.indent
            for line in fs.prelude:
                fs.lines.append(pad + line)
            fs.prelude = []

    def emit(self, text: str) -> None:
        assert self.fs is not None
        self.flush()
        self.fs.emit(text)

    def block_stmts(self, stmts: list[n.Node]) -> None:
        for s in stmts:
            self.stmt(s)

    def body_block(self, block: n.Block) -> None:
        """A nested block: its own scope, one indentation level deeper."""
        assert self.fs is not None
        self.push_scope()
        self.fs.indent += 1
        start = len(self.fs.lines)
        self.block_stmts(block.stmts)
        if len(self.fs.lines) == start:
            self.fs.emit("pass")
        self.fs.indent -= 1
        self.pop_scope()

    def tick_lines(self, weight: int = 1) -> None:
        assert self.fs is not None
        self.fs.emit(f"_t -= {weight}")
        self.fs.emit("if _t < 0: _tick()")

    def stmt(self, s: n.Node) -> None:
        fs = self.fs
        assert fs is not None
        t = type(s)
        if t is n.ExprStmt:
            self.emit(self.expr(s.expr, 0))
        elif t is n.AssignStmt:
            self.assign(s)
        elif t is n.IncDecStmt:
            self.compound(s, s.expr, "+" if s.op == "++" else "-", n.IntLit(s.pos, 1))
        elif t is n.IfStmt:
            self.if_stmt(s)
        elif t is n.ForStmt:
            self.for_stmt(s)
        elif t is n.ForInStmt:
            self.for_in(s)
        elif t is n.ReturnStmt:
            self.return_stmt(s)
        elif t is n.ExportStmt:
            if fs.kind == "func":
                raise self.error(s, "export not allowed inside function")
            if fs.kind == "module":
                code = self.expr(s.result, 0)
                self.emit(f"return _immut({code})")
            elif self.as_module:
                code = self.expr(s.result, 0)
                self.emit(f"return (_immut({code}), {self.top_dict()})")
        elif t is n.BranchStmt:
            if not fs.loops:
                raise self.error(s, f"{s.kind} not allowed outside loop")
            if s.kind == "continue":
                post = fs.loops[-1]
                if post is not None:
                    post()
                self.tick_lines(fs.loop_weights[-1])
            self.emit(s.kind)
        elif t is n.Block:
            self.push_scope()
            self.block_stmts(s.stmts)
            self.pop_scope()
        elif t is n.EmptyStmt:
            pass
        else:  # pragma: no cover - the parser makes no other statements
            raise self.error(s, f"unexpected statement {t.__name__}")

    def assign(self, s: n.AssignStmt) -> None:
        if len(s.lhs) != 1 or len(s.rhs) != 1:
            raise self.error(s, "tuple assignment not allowed")
        lhs, rhs = s.lhs[0], s.rhs[0]
        op = s.op
        if op == ":=":
            if not isinstance(lhs, n.Ident):
                raise self.error(s, "operator ':=' not allowed with selector")
            if isinstance(rhs, n.FuncLit):
                var = self.define(lhs.name, lhs)
                code = self.func_lit(rhs, var)
            else:
                code = self.expr(rhs, 0)
                var = self.define(lhs.name, lhs)
            self.emit(f"{var.py} = [{code}]" if var.boxed else f"{var.py} = {code}")
            return
        if op == "=":
            if isinstance(lhs, n.Ident):
                var = self.resolve(lhs.name)
                if var is None:
                    raise self.error(lhs, f"unresolved reference '{lhs.name}'")
                if isinstance(rhs, n.FuncLit):
                    code = self.func_lit(rhs, var)
                elif self.is_self_append(lhs, rhs):
                    code = self.append_inplace(rhs)  # type: ignore[arg-type]
                else:
                    code = self.expr(rhs, 0)
                self.emit(f"{self.assign_target(var)} = {code}")
                return
            if isinstance(lhs, (n.IndexExpr, n.SelectorExpr)):
                value = self.expr(rhs, 0)
                cont = self.expr(lhs.expr, 1)
                key = self.expr(lhs.index, 1) if isinstance(lhs, n.IndexExpr) else ascii(lhs.name)
                self.emit(f"{self.mark(s)}_setidx({value}, {cont}, {key})")
                return
            raise self.error(lhs, "unresolved reference")
        self.compound(s, lhs, op[:-1], rhs)

    def is_self_append(self, lhs: n.Ident, rhs: n.Node) -> bool:
        """``x = append(x, ...)`` with the builtin ``append``."""
        return (isinstance(rhs, n.CallExpr) and isinstance(rhs.func, n.Ident) and rhs.func.name == "append"
                and self.resolve("append") is None and len(rhs.args) >= 1
                and isinstance(rhs.args[0], n.Ident) and rhs.args[0].name == lhs.name
                and not (rhs.spread and len(rhs.args) == 1))

    def append_inplace(self, call: n.CallExpr) -> str:
        args = [self.expr(a, 1) for a in call.args]
        if call.spread:
            args[-1] = f"*{self.mark(call.args[-1])}_spr({args[-1]})"
        return self.alloc(f"{self.mark(call)}_appendip({', '.join(args)})")

    def compound(self, s: n.Node, lhs: n.Node, op: str, rhs: n.Node) -> None:
        """``x op= y``, ``x++``, ``x--``; the operation reports the statement's position."""
        if isinstance(lhs, n.Ident):
            var = self.resolve(lhs.name)
            if var is None:
                raise self.error(lhs, f"unresolved reference '{lhs.name}'")
            code = self.binop_code(op, self.read(var), self.expr(rhs, 1), s.pos, 0, rhs)
            self.emit(f"{self.assign_target(var)} = {code}")
            return
        if isinstance(lhs, (n.IndexExpr, n.SelectorExpr)):
            cont = self.expr(lhs.expr, 1)
            key = self.expr(lhs.index, 1) if isinstance(lhs, n.IndexExpr) else ascii(lhs.name)
            current = f"{self.mark(lhs)}_idx(_c0 := {cont}, _q0 := {key})"
            code = self.binop_code(op, current, self.expr(rhs, 1), s.pos, 0, rhs)
            self.emit(f"{self.mark(s)}_setidx({code}, _c0, _q0)")
            return
        assert self.src is not None
        text = self.src.text[lhs.pos:lhs.pos + 40].split()
        raise self.error(lhs, f"unresolved reference '{text[0] if text else ''}'")

    def if_stmt(self, s: n.IfStmt) -> None:
        self.push_scope()
        if s.init is not None:
            self.stmt(s.init)
        cond = self.truth(s.cond, 0)
        self.emit(f"if {cond}:")
        self.body_block(s.body)
        if s.orelse is not None:
            self.else_part(s.orelse)
        self.pop_scope()

    def else_part(self, orelse: n.Node) -> None:
        fs = self.fs
        assert fs is not None
        if isinstance(orelse, n.IfStmt):
            if orelse.init is None:
                cond = self.truth(orelse.cond, 0)
                if not fs.prelude:
                    fs.emit(f"elif {cond}:")
                    self.body_block(orelse.body)
                    if orelse.orelse is not None:
                        self.else_part(orelse.orelse)
                    return
                fs.emit("else:")
                fs.indent += 1
                self.emit(f"if {cond}:")
                self.body_block(orelse.body)
                if orelse.orelse is not None:
                    self.else_part(orelse.orelse)
                fs.indent -= 1
                return
            fs.emit("else:")
            fs.indent += 1
            self.if_stmt(orelse)
            fs.indent -= 1
        else:
            fs.emit("else:")
            self.body_block(orelse)  # type: ignore[arg-type]

    def for_stmt(self, s: n.ForStmt) -> None:
        fs = self.fs
        assert fs is not None
        self.push_scope()
        if s.init is not None:
            self.stmt(s.init)
        loop_scope = self.scope
        post_fn = None
        if s.post is not None:
            post_node = s.post

            def post_fn() -> None:
                # the post statement sees the loop's scope, not the body's
                saved = self.scope
                self.scope = loop_scope
                self.stmt(post_node)
                self.scope = saved

        if s.cond is None:
            self.emit("while True:")
            fs.indent += 1
        else:
            cond = self.truth(s.cond, 0)
            if not fs.prelude:
                self.emit(f"while {cond}:")
                fs.indent += 1
            else:
                fs.emit("while True:")
                fs.indent += 1
                self.emit(f"if not ({cond}): break")
        fs.loops.append(post_fn)
        fs.loop_weights.append(_weight(s.body))
        self.push_scope()
        self.block_stmts(s.body.stmts)
        self.pop_scope()
        fs.loops.pop()
        weight = fs.loop_weights.pop()
        if post_fn is not None:
            post_fn()
        self.tick_lines(weight)
        fs.indent -= 1
        self.pop_scope()

    def for_in(self, s: n.ForInStmt) -> None:
        fs = self.fs
        assert fs is not None
        iterable = self.expr(s.iterable, 1)
        self.push_scope()
        boxes = []

        def target(var: Var | None) -> str:
            if var is None:
                return "_"
            if var.boxed:
                boxes.append(var)
                return "_i" + var.py
            return var.py

        if s.value is None:
            var = self.define(s.key, s, True) if s.key != "_" else None
            self.emit(f"for {target(var)} in {self.mark(s.iterable)}_it1({iterable}):")
        else:
            kvar = self.define(s.key, s, True) if s.key != "_" else None
            vvar = self.define(s.value, s, True) if s.value != "_" else None
            self.emit(f"for {target(kvar)}, {target(vvar)} in {self.mark(s.iterable)}_it2({iterable}):")
        fs.indent += 1
        for var in boxes:
            fs.emit(f"{var.py} = [_i{var.py}]")
        fs.loops.append(None)
        fs.loop_weights.append(_weight(s.body))
        self.push_scope()
        self.block_stmts(s.body.stmts)
        self.pop_scope()
        fs.loops.pop()
        self.tick_lines(fs.loop_weights.pop())
        fs.indent -= 1
        self.pop_scope()

    def return_stmt(self, s: n.ReturnStmt) -> None:
        fs = self.fs
        assert fs is not None
        if fs.kind != "func":
            raise self.error(s, "return not allowed outside function")
        r = s.result
        if r is None:
            self.emit("return _U")
            return
        if (fs.tco and not fs.loops and isinstance(r, n.CallExpr) and not r.spread
                and isinstance(r.func, n.Ident) and fs.self_var is not None
                and self.resolve(r.func.name) is fs.self_var and len(r.args) == len(fs.params)):
            args = [self.expr(a, 1) for a in r.args]
            self.emit(f"_g = {self.read(fs.self_var)}")
            self.emit(f"if _g is {fs.self_obj}:")
            fs.indent += 1
            names = ", ".join(p.py for p in fs.params)
            self.fs.emit(f"{names}, = ({', '.join(args)},)")
            self.tick_lines(fs.weight)
            fs.emit("continue")
            fs.indent -= 1
            call = self.call_code(r, "_g", args, 0)
            self.emit(f"return {call}")
            return
        self.emit(f"return {self.expr(r, 0)}")

    # --- functions --------------------------------------------------------------

    def func_lit(self, f: n.FuncLit, self_var: Var | None = None) -> str:
        """Generate the ``def`` into the prelude; the expression is the Function object."""
        outer_fs, outer_scope = self.fs, self.scope
        assert outer_fs is not None
        uid = self.uid()
        fs = FuncState("func", outer_fs)
        fs.indent = 2
        fs.self_var = self_var
        fs.self_obj = f"_fo{uid}"
        fs.captured = _captured_names(f.body)
        fs.weight = _weight(f.body)
        self.fs = fs
        self.scope = Scope(outer_scope, fs)
        params = []
        for name, pos in zip(f.params, f.param_pos or [f.pos] * len(f.params), strict=False):
            v = self.define(name, pos)
            fs.params.append(v)
            params.append(v.py)
        if f.varargs:
            params[-1] = "*" + params[-1]
        fs.tco = (self_var is not None and not f.varargs and _has_self_tail_call(f.body, self_var.name)
                  and not _captures_any(f.body, set(f.params)))
        if fs.tco:
            fs.indent = 3
        self.block_stmts(f.body.stmts)
        self.flush()
        self.fs, self.scope = outer_fs, outer_scope
        if fs.box_params:
            # bind the boxes of loop variables this closure uses when it is created
            if not f.varargs:
                params.append("*")
            params += [f"{b}={b}" for b in sorted(fs.box_params)]
        head = [f"def _f{uid}({', '.join(params)}):", "    global _d, _t"]
        if fs.nonlocals:
            head.append(f"    nonlocal {', '.join(sorted(fs.nonlocals))}")
        if f.varargs:
            last = fs.params[-1].py
            head.append(f"    {last} = _list({last})")
        head += ["    _d += 1", f"    _t -= {fs.weight}", "    try:",
                 f"        if _t < 0 or _d > {MAX_FRAMES}: _enter()"]
        if fs.tco:
            head.append("        while True:")
            tail = ["            return _U"]
        else:
            tail = ["        return _U"]
        tail += ["    finally:", "        _d -= 1"]
        code = head + fs.lines + tail
        outer_fs.prelude.extend(code)
        mk = f"_mkfn(_f{uid}, {len(f.params)}, {f.varargs})"
        outer_fs.prelude.append(f"{fs.self_obj} = {self.alloc(mk) if fs.has_free else mk}")
        return fs.self_obj

    # --- expressions ------------------------------------------------------------

    def truth(self, e: n.Node, d: int) -> str:
        """Code whose Python truth is the Tengo truth of ``e`` (floats differ: 0.0 is truthy)."""
        code = self.expr(e, d)
        if _is_bool_expr(e):
            return code
        return f"(_b{d} == _b{d} if _type(_b{d} := {code}) is _float else _b{d})"

    def expr(self, e: n.Node, d: int) -> str:
        t = type(e)
        if t is n.Ident:
            var = self.resolve(e.name)
            if var is not None:
                return self.read(var)
            if e.name in _BUILTINS:
                return f"_B_{e.name}"
            raise self.error(e, f"unresolved reference '{e.name}'")
        if t is n.IntLit:
            return str(e.value)
        if t is n.FloatLit:
            v = e.value
            return repr(v) if math.isfinite(v) else self.const(v)
        if t is n.StringLit:
            return ascii(e.value)
        if t is n.CharLit:
            return self.const(Char(e.value), ("char", e.value))
        if t is n.BoolLit:
            return "True" if e.value else "False"
        if t is n.UndefinedLit:
            return "_U"
        if t is n.BinaryExpr:
            return self.binary(e, d)
        if t is n.UnaryExpr:
            return self.unary(e, d)
        if t is n.CallExpr:
            return self.call(e, d)
        if t is n.SelectorExpr:
            return f"{self.mark(e)}_idx({self.expr(e.expr, d + 1)}, {ascii(e.name)})"
        if t is n.IndexExpr:
            return f"{self.mark(e)}_idx({self.expr(e.expr, d + 1)}, {self.expr(e.index, d + 1)})"
        if t is n.SliceExpr:
            lo = "None" if e.low is None else self.expr(e.low, d + 1)
            hi = "None" if e.high is None else self.expr(e.high, d + 1)
            return self.alloc(f"{self.mark(e)}_slice({self.expr(e.expr, d + 1)}, {lo}, {hi})")
        if t is n.CondExpr:
            cond = self.truth(e.cond, d + 1)
            return f"({self.expr(e.true, d + 1)} if {cond} else {self.expr(e.false, d + 1)})"
        if t is n.ArrayLit:
            return self.alloc("[" + ", ".join(self.expr(x, d + 1) for x in e.elements) + "]")
        if t is n.MapLit:
            pairs = zip(e.keys, e.values, strict=True)
            items = ", ".join(f"{ascii(k)}: {self.expr(v, d + 1)}" for k, v in pairs)
            return self.alloc("{" + items + "}")
        if t is n.FuncLit:
            return self.func_lit(e)
        if t is n.ErrorExpr:
            return self.alloc(f"_mkerr({self.expr(e.expr, d + 1)})")
        if t is n.ImmutableExpr:
            return self.alloc(f"_immut({self.expr(e.expr, d + 1)})")
        if t is n.ImportExpr:
            return self.import_module(e)
        raise self.error(e, f"unexpected expression {t.__name__}")  # pragma: no cover

    def unary(self, e: n.UnaryExpr, d: int) -> str:
        op, x = e.op, e.operand
        if op == "-" and type(x) in (n.IntLit, n.FloatLit):
            return self.alloc(f"({-x.value!r})")  # type: ignore[attr-defined]
        if op == "!":
            if _is_bool_expr(x):
                return f"(not {self.expr(x, d + 1)})"
            return f"_falsy({self.expr(x, d + 1)})"
        helper = {"-": "_neg", "+": "_pos", "^": "_bnot"}[op]
        return self.alloc(f"{self.mark(e)}{helper}({self.expr(x, d + 1)})")

    def binary(self, e: n.BinaryExpr, d: int) -> str:
        op = e.op
        if op == "&&" or op == "||":
            a = self.expr(e.left, d + 1)
            b = self.expr(e.right, d + 1)
            if _is_bool_expr(e.left):
                test = f"(_l{d} := {a})"
            else:
                test = f"(_b{d} == _b{d} if _type(_b{d} := (_l{d} := {a})) is _float else _b{d})"
            if op == "&&":
                return f"({b} if {test} else _l{d})"
            return f"(_l{d} if {test} else {b})"
        chain = _left_chain(e)
        if len(chain) > _MAX_INLINE_CHAIN:
            # a long a+b+c+... would nest parentheses past CPython's parser limit:
            # evaluate the operands left to right, then apply the operators in order
            parts = [self.expr(chain[0], d + 1)]
            for node in chain[1:]:
                parts.append(f"({node.op!r}, {self.expr(node.right, d + 1)})")
            return self.alloc(f"{self.mark(e)}_chain({', '.join(parts)})")
        a = self.expr(e.left, d + 1)
        b = self.expr(e.right, d + 1)
        return self.binop_code(op, a, b, e.pos, d, e.right)

    def binop_code(self, op: str, a: str, b: str, pos: int, d: int, right: n.Node | None = None) -> str:
        """An operator with an inline path for ints (and literal operands) and a helper otherwise."""
        x, y = f"_x{d}", f"_y{d}"
        m = self.mark(pos)
        if isinstance(right, n.StringLit):
            if op == "==" or op == "!=":
                code = f"({x} == {b} if _type({x} := {a}) is _str else _eq({x}, {b}))"
                return code if op == "==" else f"(not {code})"
            return self.alloc(f"{m}{_helper(op)}({a}, {b})")
        if isinstance(right, n.IntLit):
            guard = f"_type({x} := {a}) is _int"
            y = b
        else:
            guard = f"_type({x} := {a}) is _type({y} := {b}) is _int"
        if op == "==" or op == "!=":
            code = f"({x} == {y} if {guard} else _eq({x}, {y}))"
            return code if op == "==" else f"(not {code})"
        if op in _CMP_OPS:
            return self.alloc(f"({x} {op} {y} if {guard} else {m}{_CMP_OPS[op]}({x}, {y}))")
        if op in _ARITH_OPS:
            r = f"_r{d}"
            return self.alloc(f"(({r} if _MIN <= ({r} := {x} {op} {y}) <= _MAX else _wrap({r})) "
                              f"if {guard} else {m}{_ARITH_OPS[op]}({x}, {y}))")
        return self.alloc(f"{m}{_OTHER_OPS[op]}({a}, {b})")

    def call(self, e: n.CallExpr, d: int) -> str:
        f = e.func
        if isinstance(f, n.Ident) and self.resolve(f.name) is None and f.name in _BUILTINS:
            if e.spread:
                args = self.spread_args(e, d)
                return self.alloc(f"{self.mark(e)}_b_{f.name}(*{args})")
            args = ", ".join(self.expr(a, d + 1) for a in e.args)
            return self.alloc(f"{self.mark(e)}_b_{f.name}({args})")
        callee = self.expr(f, d + 1)
        if e.spread:
            return f"{self.mark(e)}_callv({callee}, {self.spread_args(e, d)})"
        args = [self.expr(a, d + 1) for a in e.args]
        return self.call_code(e, callee, args, d)

    def call_code(self, e: n.CallExpr, callee: str, args: list[str], d: int) -> str:
        k = len(args)
        m = self.mark(e)
        return (f"{m}(_f.call if _type(_f := {callee}) is _Fn and _f.nfix == {k} "
                f"else {m}_cs(_f, {k}))({', '.join(args)})")

    def spread_args(self, e: n.CallExpr, d: int) -> str:
        args = [self.expr(a, d + 1) for a in e.args]
        args[-1] = f"*{self.mark(e.args[-1])}_spr({args[-1]})"
        return "[" + ", ".join(args) + "]"


_MAX_INLINE_CHAIN = 24


def _left_chain(e: n.BinaryExpr) -> list[Any]:
    """``((a op b) op c) ...`` as ``[a, node_b, node_c, ...]`` (non-short-circuit operators)."""
    nodes = []
    x: n.Node = e
    while isinstance(x, n.BinaryExpr) and x.op not in ("&&", "||"):
        nodes.append(x)
        x = x.left
    nodes.reverse()
    return [x, *nodes]


def _helper(op: str) -> str:
    return _CMP_OPS.get(op) or _ARITH_OPS.get(op) or _OTHER_OPS[op]


def _is_bool_expr(e: n.Node) -> bool:
    t = type(e)
    if t is n.BoolLit:
        return True
    if t is n.BinaryExpr:
        if e.op in ("==", "!=", "<", "<=", ">", ">="):
            return True
        if e.op in ("&&", "||"):
            return _is_bool_expr(e.left) and _is_bool_expr(e.right)
    if t is n.UnaryExpr and e.op == "!":
        return True
    return False


def _walk(node: Any):
    """Every node under ``node`` (not descending into nested function literals' own walks)."""
    stack = [node]
    while stack:
        x = stack.pop()
        yield x
        if isinstance(x, list):
            stack.extend(x)
        elif isinstance(x, n.Node):
            for name in x.__slots__:
                v = getattr(x, name, None)
                if isinstance(v, (n.Node, list)):
                    stack.append(v)


#: Syntax nodes a loop body or function may hold per tick it counts.
_NODES_PER_TICK = 64


def _weight(body: n.Block) -> int:
    """How many ticks one pass through ``body`` counts: one, or more for a
    long body.  A tick is when the memory budget is read (and the deadline
    and instruction budget checked); what one pass may allocate without
    announcing it (literals, closures, small strings) grows with the body's
    size, so weighing a long body keeps that small between two readings."""
    return 1 + sum(1 for _ in _walk(body.stmts)) // _NODES_PER_TICK


def _captured_names(body: n.Block) -> set[str]:
    """Identifiers used inside the function literals nested in ``body``."""
    names: set[str] = set()
    for x in _walk(body.stmts):
        if isinstance(x, n.FuncLit):
            names.update(y.name for y in _walk(x.body.stmts) if isinstance(y, n.Ident))
    return names


def _has_self_tail_call(body: n.Block, name: str) -> bool:
    for x in _walk(body.stmts):
        if (isinstance(x, n.ReturnStmt) and isinstance(x.result, n.CallExpr)
                and isinstance(x.result.func, n.Ident) and x.result.func.name == name):
            return True
    return False


def _captures_any(body: n.Block, names: set[str]) -> bool:
    for x in _walk(body.stmts):
        if isinstance(x, n.FuncLit):
            for y in _walk(x.body.stmts):
                if isinstance(y, n.Ident) and y.name in names:
                    return True
    return False


def compile_code(source: str, filename: str, globals_names: list[str] | tuple[str, ...],
                 module_loader: Callable[[str], Any] | None, max_allocs: int | None,
                 as_module: bool = False) -> CompiledCode:
    """Compile a main script (and the source modules it imports) to Python source."""
    try:
        return Compiler(globals_names, module_loader, max_allocs, as_module).compile_main(source, filename)
    except TengoScriptError:
        raise
    except RecursionError:
        raise TengoCompileError("script nested too deeply") from None
