"""The C library's ``syscall`` and ``prctl`` for the kernel-confinement modules.

Landlock and seccomp have no wrappers in Python's ``os``, so both modules make
raw system calls through ctypes; this is the one place that loads the C
library, fixes each function's return type (``syscall`` returns a ``long``,
``prctl`` an ``int``: read as a long, its -1 could look positive) and turns a
failure's ``errno`` into the caller's own ``OSError`` subclass.
"""

from __future__ import annotations

import ctypes
import os
import sys

#: ``None`` off Linux: the callers report "not Linux" and never call below.
LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
if LIBC is not None:
    LIBC.syscall.restype = ctypes.c_long
    LIBC.prctl.restype = ctypes.c_int


def syscall(error: type[OSError], *args: object) -> int:
    """``syscall(*args)``; a negative result raises ``error(errno, strerror)``."""
    assert LIBC is not None
    return _checked(LIBC.syscall(*args), error)


def prctl(error: type[OSError], *args: object) -> int:
    """``prctl(*args)``; a negative result raises ``error(errno, strerror)``."""
    assert LIBC is not None
    return _checked(LIBC.prctl(*args), error)


def _checked(result: int, error: type[OSError]) -> int:
    if result < 0:
        code = ctypes.get_errno()
        raise error(code, os.strerror(code))
    return result
