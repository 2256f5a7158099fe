"""The spell API reference and editor stubs, written from the bridge declarations.

Each bridge method is declared once (its signature, ``Annotated`` parameter
descriptions and docstring); this module turns those declarations into
Markdown for people, a TypeScript declaration file (``llmspell.d.ts``) for
JavaScript editors, and LuaLS annotations for Lua editors.  Nothing here is
written by hand per method, so the reference cannot drift from the code.
"""

from __future__ import annotations

from typing import Any, get_args

from pydantic import BaseModel

from .bridges import ALIASES, documented
from .bridges.base import MethodSpec, Param, TypeWords, type_text
from .values import HostHandle, ScriptFunction


def _models(specs: list[MethodSpec]) -> list[type[BaseModel]]:
    """Every options/result model the methods mention, nested ones included."""
    found: list[type[BaseModel]] = []

    def visit(t: Any) -> None:
        if isinstance(t, type) and issubclass(t, BaseModel):
            if t not in found:
                found.append(t)
                for f in t.model_fields.values():
                    visit(f.annotation)
            return
        for a in get_args(t):
            visit(a)

    for spec in specs:
        for p in spec.params:
            visit(p.annotation)
        visit(spec.returns)
    return found


_LANGUAGE_NAMES = {"lua": "Lua", "javascript": "JavaScript", "tengo": "Tengo"}


# -- Markdown ------------------------------------------------------------------------
def _signature(spec: MethodSpec) -> str:
    parts = []
    for p in spec.params:
        name = ("..." + p.name) if p.variadic else p.name
        parts.append(name if p.required or p.variadic else f"[{name}]")
    return f"{spec.bridge}.{spec.name}({', '.join(parts)})"


def markdown() -> str:
    lines = ["# llmspell spell API reference", "",
             "Generated from the bridge declarations (`llmspell docs`). In Lua call methods with `.` or `:`;",
             "in JavaScript every bridge call returns a Promise; in Tengo a failed call returns an `error` value.",
             "",
             "Numbers: Lua and Tengo keep integers and floats apart, JavaScript has one number type. A float",
             "from the host (a model's temperature, say) stays a float and prints as the language prints one:",
             "`2.0` in Lua, `2` in JavaScript and Tengo; `json.encode` writes `2` in every language. Where an",
             "integer is declared (`max_tokens`), a whole float such as Lua's `512/2` is that integer; `256.5`",
             "is an `invalid_argument`.",
             "",
             "Only plain data crosses to the host: in JavaScript an object made by a class (a `Date`, `Map`,",
             "`Set`, `RegExp`, a `Promise`, an instance of the spell's own class) is an `invalid_argument`",
             "that says what to pass instead (`date.toISOString()`, `Object.fromEntries(map)`, `[...set]`).",
             "Any key is data, `__proto__` too. `--param key=value` reads the value as strict JSON: `NaN`,",
             "`Infinity`, `0x10` or `1e400` stay strings.",
             ""]
    all_specs: list[MethodSpec] = []
    for name, cls in documented():
        lines += [f"## `{name}`", "", cls.description or "", ""]
        for spec in cls.specs.values():
            all_specs.append(spec)
            ret = Param("", spec.returns, "", True).type_text()
            lines += [f"### `{_signature(spec)}` → {ret}", "", spec.description, ""]
            for p in spec.params:
                req = "required" if p.required else "optional"
                lines.append(f"- `{p.name}` ({p.type_text()}, {req}){': ' + p.description if p.description else ''}")
            lines.append("")
        for language, members in cls.vm_members.items():
            for m in members:
                only = _LANGUAGE_NAMES.get(language, language)
                lines += [f"### `{m.signature}` → {m.type} ({only} only)", "", m.description, ""]
    lines += ["## Option and result tables", ""]
    for model in _models(all_specs):
        lines += [f"### {model.__name__}", ""]
        for fname, field in model.model_fields.items():
            desc = next((m for m in field.metadata if isinstance(m, str)), "")
            ftype = Param("", field.annotation, "", True).type_text()
            lines.append(f"- `{fname}` ({ftype}){': ' + desc if desc else ''}")
        lines.append("")
    return "\n".join(lines)


# -- TypeScript ------------------------------------------------------------------------
_TS = TypeWords(
    {str: "string", int: "number", float: "number", bool: "boolean", list: "unknown[]",
     dict: "Record<string, unknown>", ScriptFunction: "(...args: any[]) => any", HostHandle: "object"},
    list_of="Array<{}>", any_list="unknown[]", table_of="Record<string, {}>", any_table="Record<string, unknown>",
    nil="null", literal=lambda a: repr(a).replace("'", '"'),
)
_LUA = TypeWords(
    {str: "string", int: "integer", float: "number", bool: "boolean", list: "any[]", dict: "table",
     ScriptFunction: "function", HostHandle: "table"},
    list_of="{}[]", any_list="any[]", table_of="table<string, {}>", any_table="table",
    literal=lambda a: repr(a).replace("'", '"'),
)


def _ts(t: Any) -> str:
    return type_text(t, _TS)


def _tables() -> list[tuple[str, list[tuple[str, str, Any]]]]:
    """Every option/result table: its name and fields as (name, "?" if optional, type)."""
    specs = [s for _, cls in documented() for s in cls.specs.values()]
    return [(model.__name__, [(fname, "" if field.is_required() else "?", field.annotation)
                              for fname, field in model.model_fields.items()]) for model in _models(specs)]


def typescript() -> str:
    out = ["// llmspell spell API — generated by `llmspell docs --format typescript`.", ""]
    for name, fields in _tables():
        out.append(f"interface {name} {{")
        out.extend(f"  {fname}{opt}: {_ts(t)};" for fname, opt, t in fields)
        out.append("}")
    for name, cls in documented():
        out.append(f"/** {cls.description} */")
        out.append(f"declare const {name}: {{")
        for spec in cls.specs.values():
            params = ", ".join(
                f"...{p.name}: {_ts(p.annotation)}[]" if p.variadic else
                f"{p.name}{'' if p.required else '?'}: {_ts(p.annotation)}" for p in spec.params)
            out.append(f"  /** {spec.description.splitlines()[0] if spec.description else ''} */")
            out.append(f"  {spec.name}({params}): Promise<{_ts(spec.returns)}>;")
        if cls.dynamic_method:
            out.append("  [name: string]: (...args: any[]) => Promise<any>;")
        out.append("};")
    out.append("declare const params: Record<string, any>;")
    out += [f"declare const {alias}: typeof {of};" for alias, of in ALIASES.items()]
    out.append("")
    return "\n".join(out)


# -- Lua (LuaLS annotations) ------------------------------------------------------------
def _lua(t: Any) -> str:
    return type_text(t, _LUA)


def lua() -> str:
    out = ["---@meta", "-- llmspell spell API — generated by `llmspell docs --format lua`.", ""]
    for name, fields in _tables():
        out.append(f"---@class {name}")
        out.extend(f"---@field {fname}{opt} {_lua(t)}" for fname, opt, t in fields)
        out.append("")
    for name, cls in documented():
        out.append(f"---{cls.description}")
        out.append(f"{name} = {{}}")
        for spec in cls.specs.values():
            if spec.description:
                out.append(f"---{spec.description.splitlines()[0]}")
            for p in spec.params:
                pname = "..." if p.variadic else p.name + ("" if p.required else "?")
                out.append(f"---@param {pname} {_lua(p.annotation)}")
            out.append(f"---@return {_lua(spec.returns)}")
            args = ", ".join("..." if p.variadic else p.name for p in spec.params)
            out.append(f"function {name}.{spec.name}({args}) end")
        for m in cls.vm_members.get("lua", ()):
            out.append(f"---{m.description.splitlines()[0]}")
            if "(" in m.signature:
                args = m.signature[m.signature.index("(") + 1:-1].replace("[", "").replace("]", "")
                out += [f"---@return {m.type}", f"function {m.signature.split('(')[0]}({args}) end"]
            else:
                out += [f"---@type {m.type}", f"{m.signature} = {{}}"]
        out.append("")
    out += ["---@type table<string, any>", "params = {}"]
    out += [f"{alias} = {of}" for alias, of in ALIASES.items()]
    out.append("")
    return "\n".join(out)


def render(fmt: str) -> str:
    """The reference in one of: markdown, typescript, lua."""
    return {"markdown": markdown, "typescript": typescript, "lua": lua}[fmt]()
