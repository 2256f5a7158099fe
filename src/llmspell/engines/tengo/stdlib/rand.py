"""Tengo's ``rand`` module: pseudo-random numbers from a seedable source.

The sequence is Python's Mersenne Twister, not Go's generator, so seeded
values differ from the reference's (the shapes and ranges are the same).  A
host may pass ``rand_seed`` to make a spell's default source reproducible.
"""

from __future__ import annotations

import random as _random
from typing import Any

from ..objects import UNDEFINED, ImmutableMap, TengoError
from ._args import arg_bytes, arg_int, module, nargs, need


def _source_functions(rng: _random.Random) -> dict[str, Any]:
    def seed(*args: Any) -> Any:
        nargs(args, 1)
        rng.seed(arg_int(args, 0))
        return UNDEFINED

    def exp_float(*args: Any) -> float:
        nargs(args, 0)
        return rng.expovariate(1.0)

    def float_(*args: Any) -> float:
        nargs(args, 0)
        return rng.random()

    def int_(*args: Any) -> int:
        nargs(args, 0)
        return rng.getrandbits(63)

    def intn(*args: Any) -> int:
        nargs(args, 1)
        n = arg_int(args, 0)
        if n <= 0:
            raise TengoError("invalid argument to Int63n")
        return rng.randrange(n)

    def norm_float(*args: Any) -> float:
        nargs(args, 0)
        return rng.gauss(0.0, 1.0)

    def perm(*args: Any) -> list[int]:
        nargs(args, 1)
        n = arg_int(args, 0)
        if n < 0:
            raise TengoError("invalid argument to Perm")
        if n > 64:
            need(n * 40)  # the slots and the ints
        items = list(range(n))
        rng.shuffle(items)
        return items

    def read(*args: Any) -> int:
        nargs(args, 1)
        buf = arg_bytes(args, 0)  # Go's ToByteSlice: a string is filled as a copy
        if type(buf) is bytearray:  # the caller's bytes are filled in place, as in Go
            need(len(buf))
            buf[:] = rng.randbytes(len(buf))
        return len(buf)

    return {
        "seed": seed,
        "exp_float": exp_float,
        "float": float_,
        "int": int_,
        "intn": intn,
        "norm_float": norm_float,
        "perm": perm,
        "read": read,
    }


def build(host: Any) -> ImmutableMap:
    default = _random.Random(getattr(host, "rand_seed", None))

    def rand(*args: Any) -> ImmutableMap:
        nargs(args, 1)
        return module(_source_functions(_random.Random(arg_int(args, 0))))

    return module({**_source_functions(default), "rand": rand})
