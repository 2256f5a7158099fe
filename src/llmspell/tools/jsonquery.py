"""Pick or reshape values of JSON data with a JMESPath expression.

Models and spells often get a big JSON document and need part of it; JMESPath
(https://jmespath.org, the query language of the AWS and Azure command lines)
is a specified language for that, with a test suite and libraries in many
languages, so a model has likely seen it.  The query runs on the host
(``jmespath``), so its result is the same whatever the spell's language:
indexes are 0-based (the data's own order), ``[-1]`` is the last element, a
missing key is ``null``.

The expression is untrusted (a model writes it), so what the library does is
bounded here: a parse error is ``invalid_argument`` naming the column, never
the library's text or a traceback; and the work of one query is counted
(:data:`MAX_WORK`: each step, and each value it builds, by size), because a
short expression can multiply its data: ``[@, @]`` twice is four references,
and sixty such pipes flattened or written out would be 2**60 values.
"""

from __future__ import annotations

import json
from typing import Any

from jmespath import exceptions, functions, parser, visitor

from llmspell.errors import SpellError

#: How long an expression may be (a model's query is a line, not a program).
MAX_EXPRESSION_LENGTH = 10_000
#: Units of work one query may do: one per step, plus the size of each list,
#: object or string a step builds (about a second of work on a shared machine).
MAX_WORK = 2_000_000

_TOKEN_WORDS = {
    "quoted_identifier": 'a quoted name ("...")', "unquoted_identifier": "a name", "lbracket": "'['",
    "rbracket": "']'", "lbrace": "'{'", "rbrace": "'}'", "lparen": "'('", "rparen": "')'", "dot": "'.'",
    "star": "'*'", "filter": "'[?'", "flatten": "'[]'", "pipe": "'|'", "or": "'||'", "and": "'&&'",
    "not": "'!'", "comma": "','", "colon": "':'", "number": "a number", "literal": "a `literal`",
    "current": "'@'", "expref": "'&'", "eof": "the end", "eq": "'=='", "ne": "'!='", "lt": "'<'",
    "gt": "'>'", "lte": "'<='", "gte": "'>='",
}
_TYPE_WORDS = {"string": "a string", "number": "a number", "boolean": "a boolean", "array": "an array",
               "object": "an object", "null": "null", "expref": "an &expression",
               "array-number": "an array of numbers", "array-string": "an array of strings",
               # what the library says of an element of an array it checks: Python's names
               "str": "a string", "int": "a number", "float": "a number", "bool": "a boolean",
               "list": "an array", "dict": "an object", "NoneType": "null"}


class _TooMuchWork(Exception):  # noqa: N818 - a signal, caught in json_query
    pass


def _bad(message: str) -> SpellError:
    return SpellError("invalid_argument", f"json_query: {message}",
                      hint="write a JMESPath expression such as items[0].name or items[?price > `10`].name")


def _shown(expression: str) -> str:
    return json.dumps(expression if len(expression) <= 60 else expression[:60] + "...", ensure_ascii=False)


def _words(token: str) -> str:
    return _TOKEN_WORDS.get(token.lower(), token.lower().replace("_", " "))


def _parse_error(exc: exceptions.ParseError, expression: str) -> SpellError:
    """A parse error as one line naming the column (1-based) and what was wrong there."""
    if isinstance(exc, exceptions.IncompleteExpressionError):
        return _bad(f"invalid expression {_shown(expression)}: it ends too soon, at column {len(expression) + 1}")
    if isinstance(exc, exceptions.LexerError):
        what = (exc.message or "bad character").rstrip(":")
        what = what.replace("Unknown token", "unknown character").replace("Unclosed", "unclosed")
        return _bad(f"invalid expression {_shown(expression)} at column {exc.lexer_position + 1}: {what}")
    got = _words(exc.token_type or "")
    msg = exc.msg or ""
    if msg.startswith("Expecting:"):
        wanted = msg[len("Expecting:"):].split(", got:")[0].strip(" []")
        choices = [_words(w.strip(" '\"")) for w in wanted.split(",") if w.strip()]
        what = f"expected {', '.join(choices[:-1]) + ' or ' + choices[-1] if len(choices) > 1 else choices[0]}, " \
               f"not {got}"
    else:
        what = f"unexpected {got}"
    return _bad(f"invalid expression {_shown(expression)} at column {exc.lex_position + 1}: {what}")


def _type_error(exc: exceptions.JMESPathTypeError) -> SpellError:
    wanted = [_TYPE_WORDS.get(t, t) for t in exc.expected_types]
    expected = ", ".join(wanted[:-1]) + " or " + wanted[-1] if len(wanted) > 1 else wanted[0]
    return _bad(f"{exc.function_name}() takes {expected}, not {_TYPE_WORDS.get(exc.actual_type, exc.actual_type)}")


def _size(value: Any, budget: int) -> int:
    """How many values ``value`` holds (each reference counted, as writing it out
    would), stopping with _TooMuchWork past ``budget``."""
    count, stack = 0, [value]
    while stack:
        item = stack.pop()
        count += 1
        if type(item) is dict:
            stack.extend(item.values())
        elif type(item) is list:
            stack.extend(item)
        elif type(item) is str:
            count += len(item) // 64
        if count > budget:
            raise _TooMuchWork
    return count


class _Functions(functions.Functions):
    """JMESPath's functions, where two of them could build more than their
    arguments' size in one step: a text written by the spell API's one JSON
    writer (the text ``json.encode`` gives, the same in every language)."""

    def __init__(self, interpreter: _Interpreter) -> None:
        self.interpreter = interpreter

    @functions.signature({"types": []})
    def _func_to_string(self, arg: Any) -> str:
        if isinstance(arg, str):
            return arg
        from llmspell._json_text import encode

        self.interpreter.spend(_size(arg, self.interpreter.left))
        try:
            return encode(arg)
        except SpellError as exc:
            raise _bad("to_string(): " + exc.message.removeprefix("json.encode: ")) from None

    @functions.signature({"types": ["string"]}, {"types": ["array-string"]})
    def _func_join(self, separator: str, array: list) -> str:
        self.interpreter.spend(sum(len(s) for s in array) + len(separator) * len(array))
        return separator.join(array)


#: The steps that build a new list, object or string (the others hand on a value of the data).
_BUILDS = frozenset({"multi_select_list", "multi_select_dict", "projection", "value_projection",
                     "filter_projection", "flatten", "slice", "function_expression"})


class _Interpreter(visitor.TreeInterpreter):
    """JMESPath's interpreter, counting its work (see :data:`MAX_WORK`)."""

    def __init__(self) -> None:
        self.left = MAX_WORK
        super().__init__(visitor.Options(custom_functions=_Functions(self)))

    def spend(self, units: int) -> None:
        self.left -= units
        if self.left < 0:
            raise _TooMuchWork

    def visit(self, node: dict, *args: Any, **kwargs: Any) -> Any:
        self.spend(1)
        result = super().visit(node, *args, **kwargs)
        if node["type"] in _BUILDS and type(result) in (list, dict, str):
            self.spend(len(result))
        return result

    def visit_flatten(self, node: dict, value: Any) -> Any:
        # Counted before the list is built: its elements may be one list many times over.
        base = self.visit(node["children"][0], value)
        if not isinstance(base, list):
            return None
        self.spend(sum(len(e) if isinstance(e, list) else 1 for e in base))
        merged: list = []
        for element in base:
            if isinstance(element, list):
                merged.extend(element)
            else:
                merged.append(element)
        return merged


def _data(data: Any) -> Any:
    """``data``, or the data a JSON string holds (read as ``json.decode`` reads it)."""
    if not isinstance(data, str):
        return data
    from llmspell._json_text import decode

    try:
        return decode(data, null=None)
    except SpellError as exc:
        raise _bad("data is a string but not JSON: " + exc.message.removeprefix("json.decode: ")) from None


def json_query(data: Any, path: str) -> Any:
    """The result of the JMESPath expression ``path`` on ``data`` (a string
    ``data`` is read as JSON first); ``None`` when nothing matches."""
    if not isinstance(path, str):
        raise _bad("the expression must be a string")
    if not path.strip():
        raise _bad("the expression is empty (@ is the whole data)")
    if len(path) > MAX_EXPRESSION_LENGTH:
        raise _bad(f"the expression is longer than {MAX_EXPRESSION_LENGTH} characters")
    try:
        parsed = parser.Parser().parse(path)
    except exceptions.ParseError as exc:
        raise _parse_error(exc, path) from None
    except exceptions.EmptyExpressionError:
        raise _bad("the expression is empty (@ is the whole data)") from None
    except RecursionError:
        raise _bad("the expression nests too deeply") from None
    data = _data(data)
    interpreter = _Interpreter()
    try:
        result = interpreter.visit(parsed.parsed, data)
        _size(result, MAX_WORK)  # what reaches the spell, each reference made a value of its own
    except _TooMuchWork:
        raise _bad(f"the query does too much work (over {MAX_WORK:,} steps and values); "
                   "narrow it, or split it into several queries") from None
    except exceptions.UnknownFunctionError as exc:
        name = str(exc).removeprefix("Unknown function: ")
        raise _bad(f"unknown function {name} (functions: {', '.join(sorted(_Functions.FUNCTION_TABLE))})") \
            from None
    except exceptions.JMESPathTypeError as exc:
        raise _type_error(exc) from None
    except exceptions.ArityError as exc:
        least = "at least " if isinstance(exc, exceptions.VariadictArityError) else ""
        count = exc.expected_arity
        raise _bad(f"{exc.function_name}() takes {least}{count} argument{'s' if count != 1 else ''}, "
                   f"not {exc.actual_arity}") from None
    except RecursionError:
        raise _bad("the expression nests too deeply") from None
    except (TypeError, ValueError):
        raise _bad("the expression cannot be applied to this data (values of different types compared, or "
                   "a slice step of 0?)") from None
    if isinstance(result, visitor._Expression):
        raise _bad("the result is an &expression, not data (& belongs inside a function such as sort_by)")
    return result
