"""Byte sizes as people write them in flags and config files ("64MB", "1.5 GiB").

Decimal units (KB, MB, GB, TB) are powers of 1000 and binary units (KiB, MiB,
GiB, TiB) powers of 1024, as their names say; guessing would make a memory limit
silently 5% off.  A bare number is bytes.
"""

from __future__ import annotations

import re

from llmspell.errors import SpellError

_UNITS = {
    "": 1, "b": 1,
    "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2,
    "g": 1000**3, "gb": 1000**3, "t": 1000**4, "tb": 1000**4,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4,
}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]*)")


def parse_size(value: str | int) -> int:
    """Bytes from ``"64MB"``, ``"512 KiB"``, ``"1.5GB"``, ``"1024"`` or an int.

    Raises ``SpellError(kind="invalid_argument")`` for anything else, so a typo
    in a limit is reported instead of turning into "no limit".
    """
    if isinstance(value, bool):
        raise SpellError("invalid_argument", f"not a size: {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise SpellError("invalid_argument", f"a size cannot be negative: {value}")
        return value
    if not isinstance(value, str):
        raise SpellError("invalid_argument", f"not a size: {value!r}")
    match = _SIZE.fullmatch(value.strip().lower())
    if match is None or match.group(2) not in _UNITS:
        raise SpellError(
            "invalid_argument", f"not a size: {value!r}",
            hint="write a number of bytes with an optional unit: KB, MB, GB (1000s) or KiB, MiB, GiB (1024s)",
        )
    number, unit = match.groups()
    return int(float(number) * _UNITS[unit]) if "." in number else int(number) * _UNITS[unit]
