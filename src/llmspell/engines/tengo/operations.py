"""What compiled Tengo code calls at run time: operators, indexing, slicing,
calls, iteration and conversions, with the reference's semantics and error
messages.

Compiled scripts reach *only* the names in :data:`HELPERS` (plus per-run
state the interpreter adds); nothing here hands a script a Python object
that is not a Tengo value.
"""

from __future__ import annotations

import contextvars
import math
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .memory import ENTRY, HEADER, SLOT, SMALL, str_bytes, value_size
from .objects import (
    INT64_MAX,
    INT64_MIN,
    RAW_FIRST,
    UNDEFINED,
    Builtin,
    Char,
    Error,
    Function,
    ImmutableArray,
    ImmutableMap,
    TengoError,
    Time,
    concat,
    equals,
    is_falsy,
    rune,
    str_from_bytes,
    to_string,
    type_name,
    utf8_bytes,
    utf8_len,
    wrap,
)

if TYPE_CHECKING:
    from .memory import Memory

_int = int
_float = float
_str = str
_list = list
_dict = dict
_bytes = bytearray  # Tengo bytes (see objects.py)
_pbytes = bytes  # also read as Tengo bytes


# --- limits ----------------------------------------------------------------

class ProgramLimits:
    """Size limits of one program run (the reference's MaxStringLen/MaxBytesLen)
    and its memory budget (:class:`.memory.Memory`, None for none)."""

    __slots__ = ("max_bytes_len", "max_string_len", "memory")

    def __init__(self, max_string_len: int = 2147483647, max_bytes_len: int = 2147483647,
                 memory: Memory | None = None) -> None:
        self.max_string_len = max_string_len
        self.max_bytes_len = max_bytes_len
        self.memory = memory


DEFAULT_LIMITS = ProgramLimits()
_limits: contextvars.ContextVar[ProgramLimits] = contextvars.ContextVar("tengo_limits", default=DEFAULT_LIMITS)


def current_limits() -> ProgramLimits:
    """The limits of the run in progress (stdlib functions check them too)."""
    return _limits.get()


def set_limits(limits: ProgramLimits) -> contextvars.Token:
    return _limits.set(limits)


def reset_limits(token: contextvars.Token) -> None:
    _limits.reset(token)


def need(nbytes: int) -> None:
    """Announce an allocation of ``nbytes`` the spell's data decides (see
    :mod:`.memory`); raises ``memory_limit`` when it does not fit."""
    m = _limits.get().memory
    if m is not None:
        m.need(nbytes)


def took(value: Any) -> Any:
    """Count a value just made whose size was only known once made."""
    m = _limits.get().memory
    if m is not None:
        m.took(value_size(value))
    return value


def _need_str(a: str, b: str) -> None:
    """Announce ``a + b`` (the hot path: ``s += piece`` in a loop)."""
    m = _limits.get().memory
    if m is not None:
        n = len(a) + len(b)
        nbytes = HEADER + n if a.isascii() and b.isascii() else str_bytes(n, a, b)
        total = m.pending + nbytes
        if total <= m.room:
            m.pending = total
        else:
            m.need(nbytes)


def check_string(s: str) -> str:
    limit = _limits.get().max_string_len
    if len(s) > limit // 4 and utf8_len(s) > limit:
        raise TengoError("exceeding string size limit")
    return s


def check_bytes(b: bytearray) -> bytearray:
    if len(b) > _limits.get().max_bytes_len:
        raise TengoError("exceeding bytes size limit")
    return b


# --- arithmetic ------------------------------------------------------------

def _invalid(a: Any, op: str, b: Any) -> TengoError:
    return TengoError(f"invalid operation: {type_name(a)} {op} {type_name(b)}")


def _int_div(a: int, b: int) -> int:
    if b == 0:
        raise TengoError("division by zero")
    q = abs(a) // abs(b)
    return wrap(-q if (a < 0) != (b < 0) else q)


def _int_mod(a: int, b: int) -> int:
    if b == 0:
        raise TengoError("division by zero")
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def _shl(a: int, b: int) -> int:
    if b < 0 or b >= 64:  # Go converts the count to uint64: huge counts shift everything out
        return 0
    return wrap(a << b)


def _shr(a: int, b: int) -> int:
    if b < 0 or b >= 64:
        return -1 if a < 0 else 0
    return a >> b


def _fdiv(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


_INT_OPS: dict[str, Callable[[int, int], Any]] = {
    "+": lambda a, b: wrap(a + b),
    "-": lambda a, b: wrap(a - b),
    "*": lambda a, b: wrap(a * b),
    "/": _int_div,
    "%": _int_mod,
    "&": lambda a, b: a & b,
    "|": lambda a, b: a | b,
    "^": lambda a, b: a ^ b,
    "&^": lambda a, b: a & ~b,
    "<<": _shl,
    ">>": _shr,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}

_FLOAT_OPS: dict[str, Callable[[float, float], Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": _fdiv,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}

_CMP_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def binary(op: str, a: Any, b: Any) -> Any:
    """Every binary operator but ``==``/``!=``/``&&``/``||``."""
    ta = type(a)
    tb = type(b)
    if ta is _int:
        if tb is _int:
            return _INT_OPS[op](a, b)
        if tb is _float:
            f = _FLOAT_OPS.get(op)
            if f is not None:
                return f(_float(a), b)
        elif tb is Char:
            if op == "+":
                return Char(a + b.v)
            if op == "-":
                return Char(a - b.v)
            f = _CMP_OPS.get(op)
            if f is not None:
                return f(a, b.v)
        raise _invalid(a, op, b)
    if ta is _float:
        if tb is _float or tb is _int:
            f = _FLOAT_OPS.get(op)
            if f is not None:
                return f(a, _float(b))
        raise _invalid(a, op, b)
    if ta is _str:
        if op == "+":
            if tb is not _str:
                b = to_string(b)
            if len(a) + len(b) > SMALL:
                _need_str(a, b)
            # b < RAW_FIRST: b starts with no raw byte (the common case, one comparison)
            return check_string(a + b if b < RAW_FIRST else concat(a, b))
        if tb is _str:
            f = _CMP_OPS.get(op)
            if f is not None:
                return f(a, b)
        raise _invalid(a, op, b)
    if ta is Char:
        if tb is Char or tb is _int:
            bv = b.v if tb is Char else b
            if op == "+":
                return Char(a.v + bv)
            if op == "-":
                return Char(a.v - bv)
            f = _CMP_OPS.get(op)
            if f is not None:
                return f(a.v, bv)
        raise _invalid(a, op, b)
    if ta is _bytes or ta is _pbytes:
        if (tb is _bytes or tb is _pbytes) and op == "+":
            if len(a) + len(b) > SMALL:
                need(HEADER + len(a) + len(b))
            return check_bytes(a + b if ta is _bytes else _bytes(a + b))  # a new buffer
        raise _invalid(a, op, b)
    if ta is _list or ta is ImmutableArray:
        if op == "+" and (tb is _list or tb is ImmutableArray):
            if len(a) + len(b) > SMALL // SLOT:
                need(HEADER + SLOT * (len(a) + len(b)))
            return a + b if ta is _list else _list(a) + b
        raise _invalid(a, op, b)
    if ta is Time:
        if tb is _int:
            if op == "+":
                return Time(a.ns + b, a.offset, a.zone)
            if op == "-":
                return Time(a.ns - b, a.offset, a.zone)
        elif tb is Time:
            if op == "-":
                return wrap(a.ns - b.ns)
            f = _CMP_OPS.get(op)
            if f is not None:
                return f(a.ns, b.ns)
        raise _invalid(a, op, b)
    raise _invalid(a, op, b)


def _mk_binop(op: str) -> Callable[[Any, Any], Any]:
    int_op = _INT_OPS[op]

    def fn(a: Any, b: Any) -> Any:
        if type(a) is _int and type(b) is _int:
            return int_op(a, b)
        return binary(op, a, b)

    fn.__name__ = "op_" + op
    return fn


op_add = _mk_binop("+")
op_sub = _mk_binop("-")
op_mul = _mk_binop("*")
op_div = _mk_binop("/")
op_mod = _mk_binop("%")
op_and = _mk_binop("&")
op_or = _mk_binop("|")
op_xor = _mk_binop("^")
op_andnot = _mk_binop("&^")
op_shl = _mk_binop("<<")
op_shr = _mk_binop(">>")
op_lt = _mk_binop("<")
op_le = _mk_binop("<=")
op_gt = _mk_binop(">")
op_ge = _mk_binop(">=")


def chain(first: Any, *rest: tuple[str, Any]) -> Any:
    """A long left-associative chain ``a op b op c ...`` (operands already evaluated)."""
    acc = first
    for op, v in rest:
        if op == "==":
            acc = equals(acc, v)
        elif op == "!=":
            acc = not equals(acc, v)
        else:
            acc = binary(op, acc, v)
    return acc


def op_neg(x: Any) -> Any:
    t = type(x)
    if t is _int:
        return wrap(-x)
    if t is _float:
        return -x
    raise TengoError(f"invalid operation: -{type_name(x)}")


def op_pos(x: Any) -> Any:
    t = type(x)
    if t is _int or t is _float:
        return x
    raise TengoError(f"invalid operation: +{type_name(x)}")


def op_bitnot(x: Any) -> Any:
    if type(x) is _int:
        return ~x
    raise TengoError(f"invalid operation: ^{type_name(x)}")


# --- indexing --------------------------------------------------------------

def _key(i: Any) -> str:
    """A map key from any index, as the reference's ToString does."""
    if type(i) is _str:
        return i
    if i is UNDEFINED:
        raise TengoError("invalid index type: undefined")
    return to_string(i)


def index(x: Any, i: Any) -> Any:
    """``x[i]`` and ``x.name``: undefined for a missing element."""
    t = type(x)
    if t is _dict or t is ImmutableMap:
        return x.get(i if type(i) is _str else _key(i), UNDEFINED)
    if t is _list or t is ImmutableArray:
        if type(i) is _int:
            return x[i] if 0 <= i < len(x) else UNDEFINED
        raise TengoError(f"invalid index type: {type_name(i)}")
    if t is _str:
        if type(i) is _int:
            return Char(rune(x[i])) if 0 <= i < len(x) else UNDEFINED
        raise TengoError(f"invalid index type: {type_name(i)}")
    if t is _bytes or t is _pbytes:
        if type(i) is _int:
            return x[i] if 0 <= i < len(x) else UNDEFINED
        raise TengoError(f"invalid index type: {type_name(i)}")
    if t is Error:
        if i == "value" and type(i) is _str:
            return x.value
        raise TengoError("invalid index on error")
    if x is UNDEFINED:
        return UNDEFINED
    raise TengoError(f"not indexable: {type_name(x)}")


def set_index(v: Any, x: Any, i: Any) -> None:
    """``x[i] = v`` (value first: the reference evaluates the right side first)."""
    t = type(x)
    if t is _dict:
        x[i if type(i) is _str else _key(i)] = v
        return
    if t is _list:
        if type(i) is not _int:
            raise TengoError(f"invalid index type: {type_name(i)}")
        if 0 <= i < len(x):
            x[i] = v
            return
        raise TengoError("index out of bounds")
    raise TengoError(f"not index-assignable: {type_name(x)}")


def _slice_bound(v: Any) -> int:
    if type(v) is not _int:
        raise TengoError(f"invalid slice index type: {type_name(v)}")
    return v


def slice_(x: Any, lo: Any, hi: Any) -> Any:
    """``x[lo:hi]`` (``None`` for an omitted bound)."""
    t = type(x)
    if t is _str:
        ascii_ = x.isascii()
        size = len(x) if ascii_ else utf8_len(x)
    elif t is _list or t is ImmutableArray or t is _bytes or t is _pbytes:
        size = len(x)
    else:
        raise TengoError(f"not indexable: {type_name(x)}")
    lo = 0 if lo is None else _slice_bound(lo)
    hi = size if hi is None else _slice_bound(hi)
    if lo < 0:
        lo = 0
    if hi > size:
        hi = size
    if lo > hi:
        raise TengoError(f"invalid slice index: {lo} > {hi}")
    if hi - lo > SMALL // SLOT:
        if t is _str:
            need(str_bytes(hi - lo, x) + (0 if ascii_ else size))  # non-ASCII: the UTF-8 copy too
        else:
            need(HEADER + (hi - lo) * (1 if t is _bytes or t is _pbytes else SLOT))
    if t is _str and not ascii_:
        return str_from_bytes(utf8_bytes(x)[lo:hi])  # a cut character: its bytes, as in Go
    if t is ImmutableArray:
        return _list(x[lo:hi])
    if t is _pbytes:
        return _bytes(x[lo:hi])
    return x[lo:hi]


# --- calls -----------------------------------------------------------------

def call_target(f: Any, nargs: int) -> Callable[..., Any]:
    """The Python callable behind ``f`` for a call with ``nargs`` arguments,
    after the checks the reference makes (the fast path in compiled code
    handles the common case of a compiled function with the exact arity)."""
    t = type(f)
    if t is Function:
        if f.varargs:
            if nargs >= f.arity - 1:
                return f.call
            raise TengoError(f"wrong number of arguments: want>={f.arity - 1}, got={nargs}")
        if nargs == f.arity:
            return f.call
        raise TengoError(f"wrong number of arguments: want={f.arity}, got={nargs}")
    if t is Builtin:
        return f.fn
    raise TengoError(f"not callable: {type_name(f)}")


def call_spread(f: Any, args: list) -> Any:
    return call_target(f, len(args))(*args)


def spread(x: Any) -> Any:
    t = type(x)
    if t is _list or t is ImmutableArray:
        if len(x) > SMALL // SLOT:
            need(HEADER + 2 * SLOT * len(x))  # the argument tuple, and a varargs list
        return x
    raise TengoError(f"spread operator requires an array, found {type_name(x)}")


def _calibrate_unique_refcount() -> int:
    """The reference count a list passed as ``f(x, ...)`` has when variable
    ``x`` is its only owner (0 when this Python cannot tell, e.g. borrowed
    stack references): then ``x = append(x, ...)`` may extend in place."""
    getrefcount = getattr(sys, "getrefcount", None)
    if getrefcount is None:
        return 0

    def probe(arr: list, *items: Any) -> int:
        return getrefcount(arr)

    src = ("def m(probe):\n"
           "    x = [1]\n    u1 = probe(x, 5)\n"
           "    def inner():\n        return probe(c, 5)\n"
           "    c = [2]\n    u2 = inner()\n"
           "    y = x\n    a1 = probe(x, 5)\n"
           "    d = c\n    a2 = inner()\n"
           "    return u1, u2, a1, a2\n")
    ns: dict[str, Any] = {"__builtins__": {}}
    exec(src, ns)
    u1, u2, a1, a2 = ns["m"](probe)
    if u1 != u2 or a1 <= u1 or a2 <= u2:
        return 0
    return u1


_UNIQUE_REFS = _calibrate_unique_refcount()
_grc = getattr(sys, "getrefcount", lambda x: 1 << 30)


def append_inplace(arr: Any, *items: Any) -> Any:
    """``x = append(x, ...)``: when nothing else references the array no one
    can tell a copy from an extension, so extend it (amortised O(1), like the
    reference's Go slices); otherwise copy as ``append`` does."""
    if type(arr) is _list and _grc(arr) <= _UNIQUE_REFS:
        if len(items) > SMALL // SLOT:
            need(SLOT * len(items))
        arr.extend(items)
        return arr
    from .builtins import b_append

    return b_append(arr, *items)


def make_function(fn: Callable[..., Any], arity: int, varargs: bool) -> Function:
    return Function("", arity, varargs, fn)


# --- values ----------------------------------------------------------------

def immutable(v: Any) -> Any:
    t = type(v)
    if t is _list:
        if len(v) > SMALL // SLOT:
            need(HEADER + SLOT * len(v))
        return ImmutableArray(v)
    if t is _dict:
        if len(v) > SMALL // SLOT:
            need(HEADER + ENTRY * len(v))
        return ImmutableMap(v)
    return v


def make_error(v: Any) -> Error:
    return Error(v)


def _snapshot(x: Any, per: int) -> None:
    if len(x) > SMALL // SLOT:
        need(HEADER + per * len(x))


def iter_values(x: Any) -> Any:
    """``for v in x``: a snapshot, so changing ``x`` in the loop is safe
    (strings cannot change: their characters come one at a time)."""
    t = type(x)
    if t is _list or t is ImmutableArray:
        _snapshot(x, SLOT)
        return _list(x)
    if t is _dict or t is ImmutableMap:
        _snapshot(x, SLOT)
        return _list(x.values())
    if t is _str:
        return map(_char_of, x)
    if t is _bytes or t is _pbytes:
        _snapshot(x, 1)
        return _pbytes(x)
    raise TengoError(f"not iterable: {type_name(x)}")


def _char_of(c: str) -> Char:
    return Char(rune(c))


def iter_items(x: Any) -> Any:
    """``for k, v in x``: as :func:`iter_values`, the pairs made one at a time."""
    t = type(x)
    if t is _list or t is ImmutableArray:
        _snapshot(x, SLOT)
        return enumerate(_list(x))
    if t is _dict or t is ImmutableMap:
        _snapshot(x, 2 * SLOT)
        return zip(_list(x.keys()), _list(x.values()), strict=True)
    if t is _str:
        return enumerate(map(_char_of, x))
    if t is _bytes or t is _pbytes:
        _snapshot(x, 1)
        return enumerate(_pbytes(x))
    raise TengoError(f"not iterable: {type_name(x)}")


#: Names compiled code may use, mapped to their values.  The compiler refers to
#: these names only; Tengo identifiers are mangled so they never collide.
HELPERS: dict[str, Any] = {
    "_U": UNDEFINED,
    "_int": int,
    "_float": float,
    "_str": str,
    "_list": list,
    "_type": type,
    "_MIN": INT64_MIN,
    "_MAX": INT64_MAX,
    "_wrap": wrap,
    "_Fn": Function,
    "_Char": Char,
    "_add": op_add,
    "_sub": op_sub,
    "_mul": op_mul,
    "_div": op_div,
    "_mod": op_mod,
    "_band": op_and,
    "_bor": op_or,
    "_bxor": op_xor,
    "_bandnot": op_andnot,
    "_shl": op_shl,
    "_shr": op_shr,
    "_lt": op_lt,
    "_le": op_le,
    "_gt": op_gt,
    "_ge": op_ge,
    "_eq": equals,
    "_chain": chain,
    "_neg": op_neg,
    "_pos": op_pos,
    "_bnot": op_bitnot,
    "_falsy": is_falsy,
    "_idx": index,
    "_setidx": set_index,
    "_slice": slice_,
    "_cs": call_target,
    "_callv": call_spread,
    "_spr": spread,
    "_mkfn": make_function,
    "_appendip": append_inplace,
    "_immut": immutable,
    "_mkerr": make_error,
    "_it1": iter_values,
    "_it2": iter_items,
}
