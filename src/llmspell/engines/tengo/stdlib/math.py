"""Tengo's ``math`` module: Go's math package over floats.

Go's math functions never raise: domain errors give NaN and overflow gives
an infinity.  Python's raise, so every function goes through ``_go`` which
maps those exceptions onto Go's results.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import struct
from collections.abc import Callable
from typing import Any

from ..objects import INT64_MAX, INT64_MIN, ImmutableMap
from ._args import arg_float, arg_int, module, nargs

_NAN = float("nan")
_INF = float("inf")


def _go(fn: Callable[..., float], on_overflow: float = _INF) -> Callable[..., float]:
    def call(*xs: float) -> float:
        try:
            return float(fn(*xs))
        except OverflowError:
            return on_overflow
        except (ValueError, ZeroDivisionError):
            return _NAN

    return call


def _log(fn: Callable[[float], float]) -> Callable[[float], float]:
    def call(x: float) -> float:
        if x == 0:
            return -_INF
        if x < 0 or math.isnan(x):
            return _NAN
        return fn(x)

    return call


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return _INF


def _pow(x: float, y: float) -> float:
    if x == 0 and y < 0:
        odd = y == int(y) and int(y) % 2
        return -_INF if odd and math.copysign(1, x) < 0 else _INF
    try:
        return math.pow(x, y)
    except OverflowError:
        neg = x < 0 and y == int(y) and int(y) % 2
        return -_INF if neg else _INF
    except ValueError:
        return _NAN


def _gamma(x: float) -> float:
    if x == 0:
        return math.copysign(_INF, x)
    if x < 0 and x == int(x) or x == -_INF:
        return _NAN
    try:
        return math.gamma(x)
    except OverflowError:
        return _INF
    except ValueError:
        return _NAN


def _atanh(x: float) -> float:
    if x == 1:
        return _INF
    if x == -1:
        return -_INF
    return _go(math.atanh)(x)


def _round_fn(fn: Callable[[float], int]) -> Callable[[float], float]:
    def call(x: float) -> float:
        if math.isnan(x) or math.isinf(x) or x == 0:
            return x
        return math.copysign(float(fn(x)), x)

    return call


def _ilogb(x: float) -> int:
    if x == 0:
        return -(1 << 31)
    if math.isnan(x) or math.isinf(x):
        return (1 << 31) - 1
    return math.frexp(x)[1] - 1


def _logb(x: float) -> float:
    if x == 0:
        return -_INF
    if math.isinf(x):
        return _INF
    if math.isnan(x):
        return x
    return float(math.frexp(x)[1] - 1)


def _max(x: float, y: float) -> float:
    if math.isinf(x) and x > 0 or math.isinf(y) and y > 0:
        return _INF
    if math.isnan(x) or math.isnan(y):
        return _NAN
    if x == 0 and y == 0:
        return y if math.copysign(1, x) < 0 else x
    return x if x > y else y


def _min(x: float, y: float) -> float:
    if math.isinf(x) and x < 0 or math.isinf(y) and y < 0:
        return -_INF
    if math.isnan(x) or math.isnan(y):
        return _NAN
    if x == 0 and y == 0:
        return x if math.copysign(1, x) < 0 else y
    return x if x < y else y


def _dim(x: float, y: float) -> float:
    v = x - y
    if math.isnan(v):
        return _NAN
    return v if v > 0 else 0.0


def _libm() -> Any:
    # The usual names first: find_library runs ldconfig or a compiler in a
    # subprocess, which a spell's confined worker may not start.
    for name in ("libm.so.6", "libm.dylib"):
        try:
            return ctypes.CDLL(name)
        except OSError:
            pass
    try:
        name = ctypes.util.find_library("m")
    except OSError:
        return None
    try:
        lib = ctypes.CDLL(name) if name else None
    except OSError:
        lib = None
    return lib


_LIBM = _libm()


def _bessel(name: str, with_order: bool) -> Callable[..., float]:
    """Bessel functions come from the C library (Python's math has none)."""
    fn = getattr(_LIBM, name, None) if _LIBM is not None else None
    if fn is not None:
        fn.restype = ctypes.c_double
        fn.argtypes = [ctypes.c_int, ctypes.c_double] if with_order else [ctypes.c_double]

    def call(*args: Any) -> float:
        if fn is None:
            return _NAN
        return float(fn(*args))

    return call


def _f1(fn: Callable[[float], Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        nargs(args, 1)
        return fn(arg_float(args, 0))

    return call


def _f2(fn: Callable[[float, float], Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        nargs(args, 2)
        return fn(arg_float(args, 0), arg_float(args, 1))

    return call


def _if(fn: Callable[[int, float], Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        nargs(args, 2)
        return fn(arg_int(args, 0), arg_float(args, 1))

    return call


def _fi(fn: Callable[[float, int], Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        nargs(args, 2)
        return fn(arg_float(args, 0), arg_int(args, 1))

    return call


def _i1(fn: Callable[[int], Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        nargs(args, 1)
        return fn(arg_int(args, 0))

    return call


def _nan(*args: Any) -> float:
    nargs(args, 0)
    return _NAN


def _is_inf(f: float, sign: int) -> bool:
    return (sign >= 0 and f == _INF) or (sign <= 0 and f == -_INF)


def _ldexp(frac: float, exp: int) -> float:
    try:
        return math.ldexp(frac, max(min(exp, 1 << 20), -(1 << 20)))
    except OverflowError:
        return math.copysign(_INF, frac)


def _pow10(n: int) -> float:
    if n < -323:
        return 0.0
    if n > 308:
        return _INF
    return float(f"1e{n}")


def _signbit(x: float) -> bool:
    return struct.pack(">d", x)[0] >= 0x80


_FUNCS: dict[str, Callable[..., Any]] = {
    "abs": _f1(abs),
    "acos": _f1(_go(math.acos)),
    "acosh": _f1(_go(math.acosh)),
    "asin": _f1(_go(math.asin)),
    "asinh": _f1(_go(math.asinh)),
    "atan": _f1(math.atan),
    "atan2": _f2(math.atan2),
    "atanh": _f1(_atanh),
    "cbrt": _f1(math.cbrt),
    "ceil": _f1(_round_fn(math.ceil)),
    "copysign": _f2(math.copysign),
    "cos": _f1(_go(math.cos)),
    "cosh": _f1(_go(math.cosh)),
    "dim": _f2(_dim),
    "erf": _f1(math.erf),
    "erfc": _f1(math.erfc),
    "exp": _f1(_exp),
    "exp2": _f1(_go(math.exp2)),
    "expm1": _f1(_go(math.expm1)),
    "floor": _f1(_round_fn(math.floor)),
    "gamma": _f1(_gamma),
    "hypot": _f2(math.hypot),
    "ilogb": _f1(_ilogb),
    "inf": _i1(lambda sign: _INF if sign >= 0 else -_INF),
    "is_inf": _fi(_is_inf),
    "is_nan": _f1(math.isnan),
    "j0": _f1(_bessel("j0", False)),
    "j1": _f1(_bessel("j1", False)),
    "jn": _if(_bessel("jn", True)),
    "ldexp": _fi(_ldexp),
    "log": _f1(_log(math.log)),
    "log10": _f1(_log(math.log10)),
    "log1p": _f1(lambda x: -_INF if x == -1 else _go(math.log1p)(x)),
    "log2": _f1(_log(math.log2)),
    "logb": _f1(_logb),
    "max": _f2(_max),
    "min": _f2(_min),
    "mod": _f2(_go(math.fmod)),
    "nan": _nan,
    "nextafter": _f2(math.nextafter),
    "pow": _f2(_pow),
    "pow10": _i1(_pow10),
    "remainder": _f2(_go(math.remainder)),
    "signbit": _f1(_signbit),
    "sin": _f1(_go(math.sin)),
    "sinh": _f1(_go(math.sinh, _INF)),
    "sqrt": _f1(_go(math.sqrt)),
    "tan": _f1(_go(math.tan)),
    "tanh": _f1(math.tanh),
    "trunc": _f1(_round_fn(math.trunc)),
    "y0": _f1(_bessel("y0", False)),
    "y1": _f1(_bessel("y1", False)),
    "yn": _if(_bessel("yn", True)),
}

_CONSTANTS: dict[str, Any] = {
    "e": math.e,
    "pi": math.pi,
    "phi": (1 + math.sqrt(5)) / 2,
    "sqrt2": math.sqrt(2),
    "sqrtE": math.sqrt(math.e),
    "sqrtPi": math.sqrt(math.pi),
    "sqrtPhi": math.sqrt((1 + math.sqrt(5)) / 2),
    "ln2": math.log(2),
    "log2E": 1 / math.log(2),
    "ln10": math.log(10),
    "log10E": 1 / math.log(10),
    "maxFloat32": struct.unpack(">f", bytes.fromhex("7f7fffff"))[0],
    "smallestNonzeroFloat32": struct.unpack(">f", bytes.fromhex("00000001"))[0],
    "maxFloat64": 1.7976931348623157e308,
    "smallestNonzeroFloat64": 5e-324,
    "maxInt": INT64_MAX,
    "minInt": INT64_MIN,
    "maxInt8": 127,
    "minInt8": -128,
    "maxInt16": 32767,
    "minInt16": -32768,
    "maxInt32": (1 << 31) - 1,
    "minInt32": -(1 << 31),
    "maxInt64": INT64_MAX,
    "minInt64": INT64_MIN,
}


def build(host: Any) -> ImmutableMap:
    return module({**_CONSTANTS, **_FUNCS})
