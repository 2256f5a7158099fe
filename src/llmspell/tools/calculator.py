"""Arithmetic for models and spells, without ``eval``.

Models call a calculator with whatever text they produce, so the expression is
untrusted.  It is parsed with :mod:`ast` and only numbers, ``+ - * / // % **``,
unary signs, parentheses, a few constants and a list of math functions are
walked; anything else (names, attributes, calls of other functions,
comprehensions, strings) is refused before anything runs.  Sizes are capped
so that ``9**9**9`` or ``factorial(10**6)`` fail fast instead of eating the host.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

from llmspell.errors import SpellError

MAX_EXPRESSION_LENGTH = 1000
#: How deep operators and calls may nest (Python's parser stops parentheses at 200).
MAX_DEPTH = 100
#: Largest integer (in bits) any step may produce; 2**65536 is ~19 700 digits.
MAX_INT_BITS = 65_536
MAX_EXPONENT = 10_000
#: 170! is the largest factorial a float holds (171! is beyond 1.8e308, and a result
#: beyond int64 is given as a float): a larger one could only fail later.
MAX_FACTORIAL = 170
_INT64 = 1 << 63

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
}
_UNARY: dict[type, Callable[[Any], Any]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau}
#: What a refused piece of syntax is, in a user's words (never Python's node names).
_SYNTAX_WORDS: dict[type, str] = {
    ast.Attribute: "attribute access (x.y)", ast.Subscript: "indexing (x[i])", ast.Compare: "a comparison",
    ast.BoolOp: "and/or", ast.Starred: "unpacking (*x)", ast.Lambda: "lambda", ast.IfExp: "if/else",
    ast.List: "a list", ast.Tuple: "a tuple (a, b)", ast.Dict: "a dict", ast.Set: "a set",
    ast.JoinedStr: "an f-string", ast.NamedExpr: "assignment (:=)",
    ast.ListComp: "a comprehension", ast.SetComp: "a comprehension", ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a comprehension", ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield",
    ast.Slice: "a slice",
}
_OPERATOR_WORDS: dict[type, str] = {
    ast.LShift: "<<", ast.RShift: ">>", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.MatMult: "@",
    ast.Invert: "~", ast.Not: "not",
}


def _factorial(n: Any) -> int:
    if isinstance(n, float) and n.is_integer():
        n = int(n)
    if not isinstance(n, int) or n < 0:
        raise _bad("factorial() takes a non-negative whole number")
    if n > MAX_FACTORIAL:
        raise _bad(f"factorial() is limited to n <= {MAX_FACTORIAL} (a larger one is beyond the largest number)")
    return math.factorial(n)


def _round(x: Any, digits: Any = None) -> Any:
    if digits is None:
        return round(x)
    if not isinstance(digits, int) or abs(digits) > 100:  # round(1, -10**9) would compute 10**10**9
        raise _bad("round() takes a whole number of digits between -100 and 100")
    return round(x, digits)


def _log(x: Any, base: Any = None) -> float:
    return math.log(x) if base is None else math.log(x, base)


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": abs, "round": _round, "min": min, "max": max,
    "sqrt": math.sqrt, "exp": math.exp, "log": _log, "log10": math.log10, "log2": math.log2,
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "asin": math.asin, "acos": math.acos,
    "atan": math.atan, "atan2": math.atan2, "hypot": math.hypot, "degrees": math.degrees,
    "radians": math.radians, "floor": math.floor, "ceil": math.ceil, "factorial": _factorial,
}


def _bad(message: str) -> SpellError:
    return SpellError("invalid_argument", f"calculator: {message}")


def _check_power(base: Any, exponent: Any) -> None:
    if isinstance(base, int) and isinstance(exponent, int):
        if abs(exponent) > MAX_EXPONENT and abs(base) > 1:
            raise _bad(f"exponent {exponent} is too large (limit {MAX_EXPONENT})")
        if exponent > 0 and base.bit_length() * exponent > MAX_INT_BITS:
            raise _bad("the result of ** would be too large")


def _checked(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad("the result is not a number")
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise _bad("a number in the calculation is too large")
    if isinstance(value, float) and not math.isfinite(value):
        raise _bad("the result is not a finite number")
    return value


def _eval(node: ast.AST, depth: int = 0) -> Any:
    if depth > MAX_DEPTH:  # the same bound whatever the caller's stack (never Python's recursion limit)
        raise _bad(f"the expression nests more than {MAX_DEPTH} levels deep")
    depth += 1
    if isinstance(node, ast.Expression):
        return _eval(node.body, depth)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise _bad(f"{node.value!r} is not a number")
        return _checked(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        # A run such as 1 + 2 + ... + 300 nests to the left: folded in a loop, it is one level.
        chain = []
        while isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            chain.append(node)
            node = node.left
        value = _eval(node, depth)
        for link in reversed(chain):
            right = _eval(link.right, depth)
            if isinstance(link.op, ast.Pow):
                _check_power(value, right)
            value = _BINARY[type(link.op)](value, right)
            if isinstance(value, complex):
                raise _bad("the result is a complex number")
            value = _checked(value)
        return value
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _checked(_UNARY[type(node.op)](_eval(node.operand, depth)))
    if isinstance(node, ast.Name):
        if node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        raise _bad(f"unknown name {node.id!r}")
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
            name = node.func.id if isinstance(node.func, ast.Name) else "this expression"
            raise _bad(f"{name} cannot be called; functions: {', '.join(sorted(_FUNCTIONS))}")
        if node.keywords:
            raise _bad("keyword arguments are not supported")
        args = [_eval(arg, depth) for arg in node.args]
        try:
            return _checked(_FUNCTIONS[node.func.id](*args))
        except TypeError as exc:
            raise _bad(f"{node.func.id}(): {exc}") from None
    op = getattr(node, "op", None)
    if op is not None and type(op) in _OPERATOR_WORDS:
        what = f"the operator {_OPERATOR_WORDS[type(op)]}"
    else:
        what = _SYNTAX_WORDS.get(type(node), "this kind of expression")
    raise _bad(f"{what} is not allowed in an arithmetic expression (numbers, + - * / // % **, parentheses, "
               "and the listed functions)")


def calculator(expression: str) -> int | float:
    """The value of an arithmetic expression such as ``"2 * (3 + 4) ** 2"`` or ``"sqrt(2)"``.

    ``/`` is true division; integers too large for 64 bits come back as floats,
    as every spell language can hold those."""
    if not isinstance(expression, str):
        raise _bad("the expression must be a string")
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise _bad(f"the expression is longer than {MAX_EXPRESSION_LENGTH} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except RecursionError:
        raise _bad("the expression nests too deeply") from None
    except (SyntaxError, ValueError, MemoryError) as exc:
        shown = expression if len(expression) <= 60 else expression[:60] + "..."
        raise _bad(f"cannot parse {shown!r}: {getattr(exc, 'msg', exc)}") from None
    try:
        result = _eval(tree)
    except ZeroDivisionError:
        raise _bad("division by zero") from None
    except OverflowError:
        raise _bad("the result is too large") from None
    except RecursionError:
        raise _bad("the expression nests too deeply") from None
    except ValueError as exc:
        raise _bad(str(exc) or "math domain error") from None
    if isinstance(result, int) and not -_INT64 <= result < _INT64:
        try:
            return _checked(float(result))
        except OverflowError:
            raise _bad("the result is too large") from None
    return result
