"""JSON Schemas -> one GBNF grammar that the embedded model's answer must follow.

SmolLM2-135M rarely follows a tool-call format by itself, so when a request
offers tools or asks for structured output, llama.cpp samples under a grammar
and the model can only write an allowed answer: a call of one of the tools
offered (``{"tool": NAME, "arguments": ARGS}``, ARGS following that tool's
parameter schema), a JSON object following the output schema, or plain text.
:mod:`._local_answer` decides which of these a request allows; this module
only builds the grammar.

The schema-to-grammar step is llama-cpp-python's own converter
(``llama_cpp.llama_grammar.SchemaConverter``).  Schemas come from spells,
which are untrusted, and the grammar is built in the parent process, so a
schema is first checked and copied here, with its path named in every refusal:
references stay inside the schema (the converter can fetch ``https://``
references: never here), depth, size, length and repetition bounds are
limited (the converter writes ``maxLength: 10**9`` out as a rule that long),
and forms the converter does not understand are refused with a clear
``invalid_argument`` instead of its assertion.  The finished grammar is parsed
by llama.cpp before it is used, as a grammar it cannot parse would otherwise
reach the sampler.

What the grammar cannot hold (numeric ranges, ``uniqueItems``, formats other
than date/time/uuid) is left to the validation pydantic-ai and the tool
service do after generation: an answer that fails it is sent back to the model
as a retry, as with any provider.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from llmspell.errors import SpellError

log = logging.getLogger("llmspell.models")

#: Limits on a schema the grammar is built from (one place; see the module docstring).
MAX_SCHEMA_DEPTH = 24
#: Subschemas of all the schemas in one request together (a request may offer many tools).
MAX_SCHEMA_NODES = 4000
#: Length and item bounds the grammar spells out; a larger maximum is left to validation,
#: a larger minimum is refused (the rule would be that long).
MAX_GRAMMAR_REPEAT = 200
#: Readings of one place the grammar may follow at once (see ``_branches``): 4096 made generation about
#: half as slow again, a million three times slower, and each doubling beyond costs more.
MAX_GRAMMAR_BRANCHES = 1024
#: Size of the finished grammar text.
MAX_GRAMMAR_CHARS = 400_000

_TYPES = {"string", "number", "integer", "boolean", "null", "object", "array"}
#: Keys that make a subschema something the converter can turn into a rule.
_SHAPES = ("$ref", "anyOf", "oneOf", "allOf", "type", "const", "enum", "properties", "additionalProperties",
           "items", "prefixItems", "pattern", "format")
#: Where subschemas sit inside a schema.
_ONE = ("additionalProperties", "items", "not", "if", "then", "else", "contains", "propertyNames")
_MANY = ("anyOf", "oneOf", "allOf", "prefixItems")
_NAMED = ("properties", "$defs", "definitions", "patternProperties")
_NO_FORM = ("not", "if", "then", "else", "contains", "patternProperties", "propertyNames")
_ANY = {"anyOf": [{"type": t} for t in ("string", "number", "boolean", "null", "object", "array")]}
_QUANTIFIER = re.compile(r"\{\s*(\d*)\s*(?:,\s*(\d*)\s*)?\}")

#: A character inside a JSON string: what the converter allows less raw control characters,
#: which JSON does not allow unescaped.
_CHAR = r'[^"\\\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F])'
#: Plain text: anything, but not starting with "{" or white space (that start is a JSON answer's).
_TEXT = "[^{ \\t\\r\\n] [\\U00000001-\\U0010FFFF]*"


@dataclass(frozen=True)
class Alternative:
    """One form the answer may take: a call of tool ``tool`` (``schema`` is its parameters),
    a JSON object (``tool`` None, ``schema`` the output's), or plain text (``schema`` None too)."""

    tool: str | None
    schema: dict[str, Any] | None
    what: str = field(default="", compare=False)  # names the schema in errors: "tool 'get_weather'"


def _refuse(what: str, path: str, why: str) -> SpellError:
    where = f" at {path}" if path else ""
    return SpellError(
        "invalid_argument",
        f"local:smollm2 cannot follow the JSON Schema of {what}{where}: {why}",
        hint="simplify that schema, or give the agent a model other than local:smollm2",
    )


def grammar_ready(schema: Any, what: str, count: list[int] | None = None) -> dict[str, Any]:
    """A checked copy of ``schema`` in the forms the converter handles well (see the module docstring).

    ``count`` carries the subschemas counted so far across the schemas of one grammar."""
    count = count if count is not None else [0]
    refs: list[tuple[str, str]] = []

    def walk(node: Any, path: str, depth: int) -> Any:
        if isinstance(node, bool):
            return {} if node else _refused(path, "a schema that allows nothing (false)")
        if not isinstance(node, dict):
            raise _refuse(what, path, "a schema must be an object")
        count[0] += 1
        if count[0] > MAX_SCHEMA_NODES:
            raise _refuse(what, "", f"it has (with the other schemas of the request) more than {MAX_SCHEMA_NODES} "
                          "subschemas")
        if depth > MAX_SCHEMA_DEPTH:
            raise _refuse(what, path, f"it nests deeper than {MAX_SCHEMA_DEPTH} levels")
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _ONE and isinstance(value, dict):
                out[key] = walk(value, f"{path}/{key}", depth + 1)
            elif key in _ONE[1:2] and isinstance(value, list):  # items as a list (tuple form)
                out[key] = [walk(v, f"{path}/{key}/{i}", depth + 1) for i, v in enumerate(value)]
            elif key in _MANY:
                if not isinstance(value, list) or not value:
                    raise _refuse(what, f"{path}/{key}", "must be a non-empty list of schemas")
                out[key] = [walk(v, f"{path}/{key}/{i}", depth + 1) for i, v in enumerate(value)]
            elif key in _NAMED:
                if not isinstance(value, dict):
                    raise _refuse(what, f"{path}/{key}", "must be an object of schemas")
                out[key] = {k: walk(v, f"{path}/{key}/{k}", depth + 1) for k, v in value.items()}
            else:
                out[key] = value
        return _shaped(out, path)

    def _refused(path: str, why: str) -> Any:
        raise _refuse(what, path, why)

    def _shaped(node: dict[str, Any], path: str) -> dict[str, Any]:
        ref = node.get("$ref")
        if ref is not None and not (isinstance(ref, str) and ref.startswith("#/")):
            raise _refuse(what, path, f"only references inside the schema (#/...) are followed, not {str(ref)[:80]!r}")
        if ref is not None:
            refs.append((path, ref))
        all_of = node.get("allOf")
        if all_of is not None and len(all_of) == 1 and not any(k in node for k in _SHAPES if k != "allOf"):
            merged = {k: v for k, v in node.items() if k != "allOf"}
            return {**merged, **all_of[0]}
        if all_of is not None and not all(("properties" in s or "$ref" in s) for s in all_of):
            raise _refuse(what, path, "allOf is followed only as a merge of objects with properties")
        kind = node.get("type")
        if isinstance(kind, list):
            if not kind or not all(k in _TYPES for k in kind):
                raise _refuse(what, path, f"type must name JSON types ({', '.join(sorted(_TYPES))})")
            if len(kind) == 1:
                return _shaped({**node, "type": kind[0]}, path)
            rest = {k: v for k, v in node.items() if k != "type"}
            return {"anyOf": [_shaped({**rest, "type": k}, path) for k in kind]}
        if kind is not None and kind not in _TYPES:
            raise _refuse(what, path, f"unknown type {str(kind)[:40]!r}")
        if node.get("enum") is not None and (not isinstance(node["enum"], list) or not node["enum"]):
            raise _refuse(what, path, "enum must be a non-empty list")
        if node.get("enum") is not None:
            count[0] += len(node["enum"])  # each value is written out in the grammar
            if count[0] > MAX_SCHEMA_NODES:
                raise _refuse(what, path, f"it has (with the other schemas of the request) more than "
                              f"{MAX_SCHEMA_NODES} subschemas and enum values")
        if not any(k in node for k in _SHAPES):
            logic = sorted(k for k in node if k in _NO_FORM)
            if logic:
                raise _refuse(what, path, f"a schema made only of {', '.join(logic)} has no grammar form")
            return dict(_ANY)  # annotations only, or {}: any JSON value (the converter reads {} as any object)
        for low, high in (("minLength", "maxLength"), ("minItems", "maxItems")):
            _bounds(node, low, high, path)
        pattern = node.get("pattern")
        if pattern is not None:
            node["pattern"] = _pattern(pattern, path)
        return node

    def _bounds(node: dict[str, Any], low: str, high: str, path: str) -> None:
        for key in (low, high):
            value = node.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise _refuse(what, f"{path}/{key}", "must be a whole number, 0 or more")
        if (node.get(low) or 0) > MAX_GRAMMAR_REPEAT:
            raise _refuse(what, f"{path}/{low}", f"{node[low]} is more than the grammar spells out "
                          f"({MAX_GRAMMAR_REPEAT})")
        if (node.get(high) or 0) > MAX_GRAMMAR_REPEAT:
            del node[high]  # left to validation after generation

    def _pattern(pattern: Any, path: str) -> str:
        if not isinstance(pattern, str) or len(pattern) > 1000:
            raise _refuse(what, f"{path}/pattern", "must be a regular expression of at most 1000 characters")
        for match in _QUANTIFIER.finditer(pattern):
            if any(n and int(n) > MAX_GRAMMAR_REPEAT for n in match.groups()):
                raise _refuse(what, f"{path}/pattern", f"a repetition over {MAX_GRAMMAR_REPEAT} has no grammar form")
        # JSON Schema patterns match anywhere in the string; the converter reads them anchored.
        start, end = pattern.startswith("^"), pattern.endswith("$") and not pattern.endswith("\\$")
        core = _class_escapes(pattern[1 if start else 0:len(pattern) - 1 if end else len(pattern)])
        return "^" + ("" if start else ".*") + f"({core})" + ("" if end else ".*") + "$"

    ready = walk(schema, "", 0)
    for path, ref in refs:
        if _pointer(ready, ref[2:]) is None:
            raise _refuse(what, path, f"$ref {ref[:80]!r} points at nothing in the schema")
    if _branches(ready, ready, {}, set(), what) > MAX_GRAMMAR_BRANCHES:
        raise _refuse(what, "", f"it can be read more than {MAX_GRAMMAR_BRANCHES} ways at once (alternatives "
                      "within alternatives): the grammar would follow every one")
    return ready


def _branches(doc: dict[str, Any], node: Any, memo: dict[str, int], active: set[str], what: str = "") -> int:
    """About how many readings of one place in a value the grammar follows at once: alternatives add
    up (``anyOf`` of ``anyOf``s multiplies, even through references), a sequence counts its widest part.

    llama.cpp's sampler keeps every reading alive, so a schema of nested alternatives (twenty levels of
    two, through ``$defs``) would hold the model, in the parent, for minutes on one token."""
    if not isinstance(node, dict):
        return 1
    ref = node.get("$ref")
    if isinstance(ref, str):
        if ref in active:  # recursion goes through a value that takes characters: no new readings here
            return 1
        if ref not in memo:
            if len(active) >= MAX_SCHEMA_DEPTH:
                raise _refuse(what, "", f"its references nest deeper than {MAX_SCHEMA_DEPTH} levels")
            active.add(ref)
            memo[ref] = _branches(doc, _pointer(doc, ref[2:]), memo, active, what)
            active.discard(ref)
        return memo[ref]
    cap = MAX_GRAMMAR_BRANCHES + 1
    alternatives = node.get("anyOf") or node.get("oneOf")
    if isinstance(alternatives, list):
        return min(cap, sum(_branches(doc, alt, memo, active, what) for alt in alternatives))
    parts: list[Any] = list(node.get("allOf") or [])
    if isinstance(node.get("properties"), dict):
        parts += list(node["properties"].values())
    for key in ("additionalProperties", "items"):
        value = node.get(key)
        parts += value if isinstance(value, list) else [value]
    parts += list(node.get("prefixItems") or [])
    return max([1, *(_branches(doc, part, memo, active, what) for part in parts)])


def _pointer(doc: Any, pointer: str) -> Any:
    """What a JSON pointer (without its "#/") names in ``doc``, or ``None``."""
    for step in pointer.split("/"):
        step = step.replace("~1", "/").replace("~0", "~")
        if isinstance(doc, dict) and step in doc:
            doc = doc[step]
        elif isinstance(doc, list) and step.isdigit() and int(step) < len(doc):
            doc = doc[int(step)]
        else:
            return None
    return doc


#: Regex class escapes the converter would copy into a GBNF literal, where they mean nothing: as classes.
#: (White space is a space only: a raw tab or line break may not stand in a JSON string.)
_IN_CLASS = {"d": "0-9", "w": "A-Za-z0-9_", "s": " "}
_NEGATED = {"D": "[^0-9]", "W": "[^A-Za-z0-9_]", "S": "[^ ]"}


def _class_escapes(pattern: str) -> str:
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            n = pattern[i + 1]
            if n in _IN_CLASS:
                out.append(_IN_CLASS[n] if in_class else f"[{_IN_CLASS[n]}]")
            elif n in _NEGATED and not in_class:
                out.append(_NEGATED[n])
            else:
                out.append(c + n)
            i += 2
            continue
        in_class = (in_class or c == "[") and not (in_class and c == "]")
        out.append(c)
        i += 1
    return "".join(out)


def literal_tree(texts: list[str]) -> str:
    """A GBNF expression for any one of ``texts``, its alternatives split only where the texts differ."""
    tree: dict[str, Any] = {}
    for text in texts:
        node = tree
        for ch in text:
            node = node.setdefault(ch, {})
        node[""] = {}  # a text ends here

    def rest(node: dict[str, Any]) -> str:
        alternatives = []
        for ch, child in sorted((k, v) for k, v in node.items() if k):
            run = ch
            while len(child) == 1 and "" not in child:
                (more, child), = child.items()
                run += more
            after = rest(child)
            alternatives.append(gbnf_literal(run) + (f" {after}" if after else ""))
        if not alternatives:
            return ""
        body = " | ".join(alternatives)
        if "" in node:
            return f"({body})?"
        return f"({body})" if len(alternatives) > 1 else body

    return rest(tree)


def _converter() -> Any:
    from llama_cpp.llama_grammar import RESERVED_NAMES, SchemaConverter

    class _Converter(SchemaConverter):
        """llama-cpp-python's converter, writing literals with every character escaped GBNF's way
        (its own leaves a backslash unescaped, so a quote in an enum value ended the literal), and
        JSON string characters (its ``char``, and a pattern's ``.``) as JSON allows them: no raw
        control character, and a quote or backslash only escaped (its ``.`` let a pattern's string
        run past its closing quote)."""

        def _format_literal(self, literal: str) -> str:
            return gbnf_literal(literal)

        def _add_rule(self, name: str, rule: str) -> str:
            return super()._add_rule(name, _CHAR if name in ("char", "dot") else rule)

        def visit(self, schema: dict[str, Any], name: str) -> str:
            if "enum" in schema and not any(k in schema for k in ("$ref", "anyOf", "oneOf", "const")):
                # Its values as one tree of their common beginnings, not one alternative each: the
                # sampler follows a single reading however many values there are.
                rule_name = name + "-" if name in RESERVED_NAMES else name or "root"
                texts = [json.dumps(v, ensure_ascii=True, allow_nan=False) for v in schema["enum"]]
                return self._add_rule(rule_name, literal_tree(texts))
            return super().visit(schema, name)

    return _Converter(prop_order={}, allow_fetch=False, dotall=False, raw_pattern=False)


def gbnf_literal(text: str) -> str:
    """``text`` as a GBNF string literal."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ch == "\x7f":
            out.append(f"\\x{ord(ch):02X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|\[(?:\\.|[^\]\\])*\]|\{[^}]*\}|[A-Za-z0-9_-]+|\s+|.', re.S)


def _prefixed(grammar: str, prefix: str) -> str:
    """``grammar`` with every rule name prefixed, so several schemas' rules live in one grammar."""
    out = []
    for token in _TOKEN.findall(grammar):
        if token[0].isalnum() or token[0] in "_-":
            out.append(prefix + token)
        else:
            out.append(token)
    return "".join(out)


def schema_rules(schema: dict[str, Any], prefix: str, what: str, count: list[int] | None = None) -> str:
    """The rules for values of ``schema``, named ``{prefix}...``; ``{prefix}root`` is the value."""
    ready = grammar_ready(schema, what, count)
    converter = _converter()
    try:
        ready = converter.resolve_refs(ready, "schema")
        converter.visit(ready, "")
        grammar = converter.format_grammar()
    except RecursionError:
        raise _refuse(what, "", "it nests too deeply for a grammar") from None
    except Exception as exc:  # noqa: BLE001 -- the converter asserts; its text is kept short, no class names
        # Its text, cut before any Python rendering of the schema it quotes.
        reason = re.split(r"[:\s]+[{\[(]", str(exc).splitlines()[0] if str(exc) else "")[0][:160]
        reason = reason or "a form it does not support"
        raise _refuse(what, "", f"llama.cpp's converter stopped: {reason}") from None
    return _prefixed(grammar, prefix)


def answer_grammar(alternatives: list[Alternative]) -> str:
    """One GBNF grammar whose root is any of ``alternatives`` (at least one)."""
    roots: list[str] = []
    rules: list[str] = []
    count = [0]  # subschemas of every alternative together: one limit for the whole grammar
    for i, alt in enumerate(alternatives):
        name = f"a{i}"
        if alt.schema is None:
            rules.append(f"{name} ::= {_TEXT}")
        elif alt.tool is None:
            rules.append(schema_rules(alt.schema, f"{name}-", alt.what, count))
            rules.append(f"{name} ::= {name}-root")
        else:
            rules.append(schema_rules(alt.schema, f"{name}-", alt.what, count))
            head = gbnf_literal('{"tool": ' + json.dumps(alt.tool, ensure_ascii=False) + ', "arguments": ')
            rules.append(f'{name} ::= {head} {name}-root "}}"')
        roots.append(name)
    grammar = "\n".join([f"root ::= {' | '.join(roots)}", *rules])
    if len(grammar) > MAX_GRAMMAR_CHARS:
        what = ", ".join(a.what for a in alternatives if a.what)
        raise _refuse(what or "the answer", "", f"its grammar would be over {MAX_GRAMMAR_CHARS} characters")
    return grammar


def check_grammar(grammar: str, llama: Any, what: str) -> Any:
    """``grammar`` as a ``LlamaGrammar`` once llama.cpp has parsed it (a grammar it cannot parse
    must never reach its sampler)."""
    import llama_cpp
    from llama_cpp import LlamaGrammar

    # (llama.cpp also says why on the parent's stderr; the operator sees the grammar with LLMSPELL_DEBUG=1.)
    sampler = llama_cpp.llama_sampler_init_grammar(llama._model.vocab, grammar.encode("utf-8"), b"root")
    if not sampler:
        log.debug("llama.cpp could not parse this grammar:\n%s", grammar)
        raise _refuse(what, "", "llama.cpp could not parse the grammar made from it")
    llama_cpp.llama_sampler_free(sampler)
    return LlamaGrammar.from_string(grammar, verbose=False)
