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
#: Largest integer (in bits) any step may produce; 2**65536 is ~19 700 digits.
MAX_INT_BITS = 65_536
MAX_EXPONENT = 10_000
MAX_FACTORIAL = 1_000
_INT64 = 1 << 63

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
}
_UNARY: dict[type, Callable[[Any], Any]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau}


def _factorial(n: Any) -> int:
    if isinstance(n, float) and n.is_integer():
        n = int(n)
    if not isinstance(n, int) or n < 0:
        raise _bad("factorial() takes a non-negative whole number")
    if n > MAX_FACTORIAL:
        raise _bad(f"factorial() is limited to n <= {MAX_FACTORIAL}")
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


def _eval(node: ast.AST) -> Any:
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise _bad(f"{node.value!r} is not a number")
        return _checked(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        result = _BINARY[type(node.op)](left, right)
        if isinstance(result, complex):
            raise _bad("the result is a complex number")
        return _checked(result)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _checked(_UNARY[type(node.op)](_eval(node.operand)))
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
        args = [_eval(arg) for arg in node.args]
        try:
            return _checked(_FUNCTIONS[node.func.id](*args))
        except TypeError as exc:
            raise _bad(f"{node.func.id}(): {exc}") from None
    raise _bad(f"{type(node).__name__} is not allowed in an arithmetic expression")


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
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise _bad(f"cannot parse {expression!r}: {getattr(exc, 'msg', exc)}") from None
    try:
        result = _eval(tree)
    except ZeroDivisionError:
        raise _bad("division by zero") from None
    except OverflowError:
        raise _bad("the result is too large") from None
    except (ValueError, RecursionError) as exc:
        raise _bad(str(exc) or "math domain error") from None
    if isinstance(result, int) and not -_INT64 <= result < _INT64:
        try:
            return _checked(float(result))
        except OverflowError:
            raise _bad("the result is too large") from None
    return result
