"""Go-style ``printf`` formatting of Tengo values (the ``format`` builtin and
``fmt.sprintf``/``fmt.printf``).

Tengo's formatter is Go's ``fmt`` applied to Tengo objects: ints, floats,
strings, bools and bytes format as the Go values they wrap, ``%v`` prints a
value's ``String()`` form (so ``"a"`` shows quoted), ``%T`` its type name, and
every other type formats as its ``String()`` text.  Mistakes are reported in
the output (``%!d(string=x)``, ``%!d(MISSING)``, ``%!(EXTRA ...)``), never
raised, as in Go.
"""

from __future__ import annotations

import math
import struct
import unicodedata
from typing import Any

from .objects import UNDEFINED, rejoined, to_repr, type_name
from .operations import need

_MAX_WIDTH = 1_000_000


def format_string(fmt: str, args: list) -> str:
    """Format ``args`` according to the Go-style format string ``fmt``
    (pieces of a character given apart join back, as Go writes bytes)."""
    return rejoined(_Printer(args).run(fmt))


# --- Go strconv helpers -----------------------------------------------------


def is_print(c: str) -> bool:
    """Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and
    the ASCII space."""
    if c == " ":
        return True
    cat = unicodedata.category(c)
    return cat[0] in "LMNPS"


def _quote_rune_text(n: int, quote: str, ascii_only: bool) -> str:
    esc = {7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v", 92: "\\\\"}
    if n == ord(quote):
        return "\\" + quote
    if n in esc:
        return esc[n]
    c = chr(n)
    if (n < 0x80 or not ascii_only) and is_print(c):
        return c
    if n < 0x20 or n == 0x7F:
        return f"\\x{n:02x}"
    if n < 0x10000:
        return f"\\u{n:04x}"
    return f"\\U{n:08x}"


def go_quote(s: str, ascii_only: bool = False) -> str:
    """strconv.Quote / QuoteToASCII (a long string a piece at a time, so
    what is in flight stays small next to the result)."""
    if len(s) > 4096:
        need(64 + 2 * len(s) * 4)
        pieces = [s[i:i + 4096] for i in range(0, len(s), 4096)]
        return '"' + "".join([_quote_piece(p, ascii_only) for p in pieces]) + '"'
    return '"' + _quote_piece(s, ascii_only) + '"'


def _quote_piece(s: str, ascii_only: bool) -> str:
    return "".join([_quote_rune_text(ord(c), '"', ascii_only) for c in s])


def go_quote_rune(n: int, ascii_only: bool = False) -> str:
    """strconv.QuoteRune / QuoteRuneToASCII; invalid code points show as U+FFFD."""
    if n < 0 or n > 0x10FFFF or 0xD800 <= n <= 0xDFFF:
        n = 0xFFFD
    return "'" + _quote_rune_text(n, "'", ascii_only) + "'"


def can_backquote(s: str) -> bool:
    return all(c == "\t" or (c >= " " and c not in "`\x7f\ufeff") for c in s)


def _shortest_digits(f: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits of |f| and the decimal point position
    (value = 0.DIGITS x 10**dp)."""
    if f == 0:
        return "", 0
    mant, _, exp = repr(abs(f)).partition("e")
    whole, _, frac = mant.partition(".")
    digits = (whole + frac).lstrip("0")
    lead = len(whole + frac) - len((whole + frac).lstrip("0"))
    dp = len(whole) - lead + (int(exp) if exp else 0)
    return digits.rstrip("0"), dp


def _rounded_digits(f: float, n: int) -> tuple[str, int]:
    """|f| rounded to n significant digits (trailing zeros dropped)."""
    if f == 0:
        return "", 0
    text = f"{abs(f):.{n - 1}e}"
    mant, _, exp = text.partition("e")
    digits = mant.replace(".", "").rstrip("0")
    return digits, int(exp) + 1


def _fmt_e(neg: bool, digits: str, dp: int, prec: int, e: str) -> str:
    first = digits[:1] or "0"
    out = first
    if prec > 0:
        out += "." + digits[1:1 + prec].ljust(prec, "0")
    exp = dp - 1 if digits else 0
    sign = "-" if exp < 0 else "+"
    exp = abs(exp)
    out += e + sign + (f"{exp:02d}")
    return ("-" if neg else "") + out


def _fmt_f(neg: bool, digits: str, dp: int, prec: int) -> str:
    if dp > 0:
        out = digits[:dp].ljust(dp, "0")
    else:
        out = "0"
    if prec > 0:
        frac = []
        for i in range(prec):
            j = dp + i
            frac.append(digits[j] if 0 <= j < len(digits) else "0")
        out += "." + "".join(frac)
    return ("-" if neg else "") + out


def _fmt_b(f: float) -> str:
    bits = struct.unpack("<Q", struct.pack("<d", f))[0]
    neg = bits >> 63
    exp = (bits >> 52) & 0x7FF
    mant = bits & ((1 << 52) - 1)
    if exp == 0:
        exp = 1
    else:
        mant |= 1 << 52
    exp -= 1023 + 52
    return ("-" if neg else "") + f"{mant}p" + ("+" if exp >= 0 else "-") + str(abs(exp))


def _fmt_x(f: float, prec: int, upper: bool) -> str:
    neg = math.copysign(1.0, f) < 0
    f = abs(f)
    if f == 0:
        mant, exp = 0, 0
    else:
        m, exp = math.frexp(f)  # f = m * 2**exp, 0.5 <= m < 1
        mant = int(m * (1 << 53))  # 53 bits, leading bit at 52
        exp -= 1
    # mantissa as 1.xxxxx with 52 fraction bits = 13 hex digits
    frac = mant & ((1 << 52) - 1) if mant else 0
    lead = 1 if mant else 0
    if 0 <= prec < 13:
        shift = 4 * (13 - prec)
        full = (lead << 52) | frac
        rem = full & ((1 << shift) - 1)
        full >>= shift
        half = 1 << (shift - 1)
        if rem > half or (rem == half and full & 1):
            full += 1
        if full >> (4 * prec) >= 2:
            full >>= 1
            exp += 1
        lead = full >> (4 * prec)
        frac_digits = f"{full & ((1 << (4 * prec)) - 1):0{prec}x}" if prec else ""
    else:
        frac_digits = f"{frac:013x}"
        frac_digits = frac_digits.rstrip("0") if prec < 0 else frac_digits.ljust(prec, "0")
    out = f"0x{lead}"
    if frac_digits:
        out += "." + frac_digits
    out += "p" + ("+" if exp >= 0 else "-") + f"{abs(exp):02d}"
    if upper:
        out = out.upper()
    return ("-" if neg else "") + out


def format_go_float(f: float, verb: str, prec: int) -> str:
    """strconv.FormatFloat(f, verb, prec, 64) for verbs b e E f F g G x X."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    neg = math.copysign(1.0, f) < 0
    if verb == "b":
        return _fmt_b(f)
    if verb in "xX":
        return _fmt_x(f, prec, verb == "X")
    if verb in "eE":
        if prec < 0:
            digits, dp = _shortest_digits(f)
            return _fmt_e(neg, digits, dp, max(len(digits) - 1, 0), verb)
        return ("-" if neg else "") + f"{abs(f):.{prec}{verb}}"
    if verb in "fF":
        if prec < 0:
            digits, dp = _shortest_digits(f)
            return _fmt_f(neg, digits, dp, max(len(digits) - dp, 0))
        return ("-" if neg else "") + f"{abs(f):.{prec}f}"
    # g / G
    shortest = prec < 0
    if shortest:
        digits, dp = _shortest_digits(f)
        prec = len(digits)
        eprec = 6
    else:
        if prec == 0:
            prec = 1
        digits, dp = _rounded_digits(f, prec)
        eprec = prec
        if eprec > len(digits) and len(digits) >= dp:
            eprec = len(digits)
    exp = dp - 1
    if f == 0:
        exp = 0
    if exp < -4 or exp >= eprec:
        if prec > len(digits):
            prec = len(digits)
        return _fmt_e(neg, digits, dp, max(prec - 1, 0), "e" if verb == "g" else "E")
    if prec > dp:
        prec = len(digits)
    return _fmt_f(neg, digits, dp, max(prec - dp, 0))


# --- the printer ----------------------------------------------------------------


class _Printer:
    def __init__(self, args: list) -> None:
        self.args = list(args)
        self.out: list[str] = []
        self.reordered = False
        self.good_arg_num = True
        self._clear()

    def _clear(self) -> None:
        self.plus = self.minus = self.sharp = self.space = self.zero = False
        self.wid = 0
        self.prec = 0
        self.wid_present = self.prec_present = False

    # padding -----------------------------------------------------------------
    def _padding(self, n: int) -> str:
        if n <= 0:
            return ""
        return ("0" if self.zero else " ") * n

    def pad(self, s: str) -> None:
        if not self.wid_present or self.wid == 0:
            self.out.append(s)
            return
        width = self.wid - len(s)
        if width > 4096:
            need(width + len(s))
        if not self.minus:
            self.out.append(self._padding(width) + s)
        else:
            self.out.append(s + (" " * width if width > 0 else ""))

    def pad_nozero(self, s: str) -> None:
        old = self.zero
        self.zero = False
        self.pad(s)
        self.zero = old

    # primitives --------------------------------------------------------------
    def fmt_s(self, s: str) -> None:
        if self.prec_present:
            s = s[: self.prec]
        self.pad(s)

    def fmt_q(self, s: str) -> None:
        if self.prec_present:
            s = s[: self.prec]
        if self.sharp and can_backquote(s):
            self.pad("`" + s + "`")
        else:
            self.pad(go_quote(s, ascii_only=self.plus))

    def fmt_hex_bytes(self, b: bytes, upper: bool) -> None:
        digits = "0123456789ABCDEFX" if upper else "0123456789abcdefx"
        length = len(b)
        if self.prec_present and self.prec < length:
            length = self.prec
        width = 2 * length
        if width > 0:
            if self.space:
                if self.sharp:
                    width *= 2
                width += length - 1
            elif self.sharp:
                width += 2
        else:
            if self.wid_present:
                self.out.append(self._padding(self.wid))
            return
        if self.wid_present and self.wid > width and not self.minus:
            self.out.append(self._padding(self.wid - width))
        buf = []
        if self.sharp:
            buf.append("0" + digits[16])
        for i in range(length):
            if self.space and i > 0:
                buf.append(" ")
                if self.sharp:
                    buf.append("0" + digits[16])
            c = b[i]
            buf.append(digits[c >> 4] + digits[c & 0xF])
        self.out.append("".join(buf))
        if self.wid_present and self.wid > width and self.minus:
            self.out.append(self._padding(self.wid - width))

    def fmt_integer(self, n: int, base: int, verb: str, upper: bool = False) -> None:
        negative = n < 0
        u = -n if negative else n
        prec = 0
        if self.prec_present:
            prec = self.prec
            if prec == 0 and u == 0:
                old = self.zero
                self.zero = False
                self.out.append(self._padding(self.wid))
                self.zero = old
                return
        elif self.zero and not self.minus and self.wid_present:
            prec = self.wid
            if negative or self.plus or self.space:
                prec -= 1
        if base == 10:
            body = str(u)
        elif base == 16:
            body = f"{u:X}" if upper else f"{u:x}"
        elif base == 8:
            body = f"{u:o}"
        else:
            body = f"{u:b}"
        if len(body) < prec:
            body = "0" * (prec - len(body)) + body
        if self.sharp:
            if base == 2:
                body = "0b" + body
            elif base == 8 and body[0] != "0":
                body = "0" + body
            elif base == 16:
                body = ("0X" if upper else "0x") + body
        if verb == "O":
            body = "0o" + body
        if negative:
            body = "-" + body
        elif self.plus:
            body = "+" + body
        elif self.space:
            body = " " + body
        self.pad_nozero(body)

    def fmt_unicode(self, u: int) -> None:
        prec = 4
        if self.prec_present and self.prec > 4:
            prec = self.prec
        body = "U+" + f"{u & 0xFFFFFFFFFFFFFFFF:X}".rjust(prec, "0")
        if self.sharp and 0 <= u <= 0x10FFFF and not 0xD800 <= u <= 0xDFFF and is_print(chr(u)):
            body += " '" + chr(u) + "'"
        self.pad_nozero(body)

    def fmt_float(self, f: float, verb: str, prec: int) -> None:
        if self.prec_present:
            prec = self.prec
        num = format_go_float(f, verb, prec)
        if num[0] in "+-":
            sign, num = num[0], num[1:]
        else:
            sign = "+"
        if self.space and sign == "+" and not self.plus:
            sign = " "
        if num[0] in "IN":
            if num[0] == "N" and not self.space and not self.plus:
                sign = ""
            self.pad_nozero(sign + num)
            return
        if self.sharp and verb != "b":
            digits = 0
            if verb in "vgGx":
                digits = prec if prec != -1 else 6
            tail = ""
            cut = None
            for i, c in enumerate(num):
                if c in "pP" or (c in "eE" and verb not in "xX"):
                    cut = i
                    break
            if cut is not None:
                num, tail = num[:cut], num[cut:]
            has_point = "." in num
            seen_nonzero = False
            for c in num:
                if c == ".":
                    continue
                if c != "0":
                    seen_nonzero = True
                if seen_nonzero:
                    digits -= 1
            if not has_point:
                if num == "0":
                    digits -= 1
                num += "."
            if digits > 0:
                num += "0" * digits
            num += tail
        if self.plus or sign != "+":
            if self.zero and not self.minus and self.wid_present and self.wid > len(num) + 1:
                self.out.append(sign + "0" * (self.wid - len(num) - 1) + num)
                return
            self.pad(sign + num)
            return
        self.pad(num)

    # per-type dispatch -----------------------------------------------------
    def bad_verb(self, verb: str, arg: Any) -> None:
        self.out.append("%!" + verb + "(")
        if arg is None:
            self.out.append("<nil>")
        else:
            self.out.append(type_name(arg) + "=")
            self.print_arg(arg, "v")
        self.out.append(")")

    def print_arg(self, arg: Any, verb: str) -> None:
        if verb == "T":
            self.fmt_s(type_name(arg))
            return
        if verb == "v":
            self.fmt_s(to_repr(arg))
            return
        t = type(arg)
        if t is bool:
            if verb == "t":
                self.pad("true" if arg else "false")
            else:
                self.bad_verb(verb, arg)
        elif t is float:
            if verb in "bgGxX":
                self.fmt_float(arg, verb, -1)
            elif verb in "feEF":
                self.fmt_float(arg, verb, 6)
            else:
                self.bad_verb(verb, arg)
        elif t is int:
            self.print_int(arg, verb)
        elif t is str:
            self.print_str(arg, verb)
        elif t is bytearray or t is bytes:
            if verb == "d":
                self.out.append("[" + " ".join(str(c) for c in arg) + "]")
            elif verb == "s":
                self.fmt_s(arg.decode("utf-8", "replace"))
            elif verb in "xX":
                self.fmt_hex_bytes(arg, verb == "X")
            elif verb == "q":
                self.fmt_q(arg.decode("utf-8", "replace"))
        else:
            self.print_str(to_repr(arg) if arg is not UNDEFINED else "<undefined>", verb, arg)

    def print_int(self, n: int, verb: str) -> None:
        if verb == "d":
            self.fmt_integer(n, 10, verb)
        elif verb == "b":
            self.fmt_integer(n, 2, verb)
        elif verb in "oO":
            self.fmt_integer(n, 8, verb)
        elif verb == "x":
            self.fmt_integer(n, 16, verb)
        elif verb == "X":
            self.fmt_integer(n, 16, verb, upper=True)
        elif verb == "c":
            r = n if 0 <= n <= 0x10FFFF and not 0xD800 <= n <= 0xDFFF else 0xFFFD
            self.pad(chr(r))
        elif verb == "q":
            self.pad(go_quote_rune(n, ascii_only=self.plus))
        elif verb == "U":
            self.fmt_unicode(n)
        else:
            self.bad_verb(verb, n)

    def print_str(self, s: str, verb: str, arg: Any = None) -> None:
        if verb == "s":
            self.fmt_s(s)
        elif verb in "xX":
            self.fmt_hex_bytes(s.encode("utf-8", "surrogateescape"), verb == "X")
        elif verb == "q":
            self.fmt_q(s)
        else:
            self.bad_verb(verb, s if arg is None else arg)

    # the format loop ---------------------------------------------------------
    def _int_from_arg(self, arg_num: int) -> tuple[int, bool, int]:
        if arg_num < len(self.args):
            v = self.args[arg_num]
            if type(v) is int:
                num, ok = v, True
            elif type(v) is bool:
                num, ok = int(v), True
            elif type(v) is float and not math.isnan(v) and not math.isinf(v):
                num, ok = int(v), True
            else:
                num, ok = 0, False
            if abs(num) > _MAX_WIDTH:
                num, ok = 0, False
            return num, ok, arg_num + 1
        return 0, False, arg_num

    @staticmethod
    def _parsenum(s: str, start: int, end: int) -> tuple[int, bool, int]:
        if start >= end:
            return 0, False, end
        num = 0
        isnum = False
        i = start
        while i < end and "0" <= s[i] <= "9":
            if num > _MAX_WIDTH:
                return 0, False, end
            num = num * 10 + ord(s[i]) - 48
            isnum = True
            i += 1
        return num, isnum, i

    def _arg_number(self, arg_num: int, fmt: str, i: int) -> tuple[int, int, bool]:
        if i >= len(fmt) or fmt[i] != "[":
            return arg_num, i, False
        self.reordered = True
        rest = fmt[i:]
        index, wid, ok = 0, 1, False
        if len(rest) >= 3:
            close = rest.find("]", 1)
            if close != -1:
                n, isnum, newi = self._parsenum(rest, 1, close)
                if not isnum or newi != close:
                    index, wid, ok = 0, close + 1, False
                else:
                    index, wid, ok = n - 1, close + 1, True
        if ok and 0 <= index < len(self.args):
            return index, i + wid, True
        self.good_arg_num = False
        return arg_num, i + wid, ok

    def run(self, fmt: str) -> str:
        end = len(fmt)
        arg_num = 0
        i = 0
        out = self.out
        while i < end:
            self.good_arg_num = True
            lasti = i
            j = fmt.find("%", i)
            i = end if j < 0 else j
            if i > lasti:
                out.append(fmt[lasti:i])
            if i >= end:
                break
            i += 1
            self._clear()
            while i < end:
                c = fmt[i]
                if c == "#":
                    self.sharp = True
                elif c == "0":
                    self.zero = not self.minus
                elif c == "+":
                    self.plus = True
                elif c == "-":
                    self.minus = True
                    self.zero = False
                elif c == " ":
                    self.space = True
                else:
                    break
                i += 1
            arg_num, i, after_index = self._arg_number(arg_num, fmt, i)
            if i < end and fmt[i] == "*":
                i += 1
                self.wid, self.wid_present, arg_num = self._int_from_arg(arg_num)
                if not self.wid_present:
                    out.append("%!(BADWIDTH)")
                if self.wid < 0:
                    self.wid = -self.wid
                    self.minus = True
                    self.zero = False
                after_index = False
            else:
                self.wid, self.wid_present, i = self._parsenum(fmt, i, end)
                if after_index and self.wid_present:
                    self.good_arg_num = False
            if i + 1 <= end and i < end and fmt[i] == ".":
                i += 1
                if after_index:
                    self.good_arg_num = False
                arg_num, i, after_index = self._arg_number(arg_num, fmt, i)
                if i < end and fmt[i] == "*":
                    i += 1
                    self.prec, self.prec_present, arg_num = self._int_from_arg(arg_num)
                    if self.prec < 0:
                        self.prec = 0
                        self.prec_present = False
                    if not self.prec_present:
                        out.append("%!(BADPREC)")
                    after_index = False
                else:
                    self.prec, self.prec_present, i = self._parsenum(fmt, i, end)
                    if not self.prec_present:
                        self.prec = 0
                        self.prec_present = True
            if not after_index:
                arg_num, i, after_index = self._arg_number(arg_num, fmt, i)
            if i >= end:
                out.append("%!(NOVERB)")
                break
            verb = fmt[i]
            i += 1
            if verb == "%":
                out.append("%")
            elif not self.good_arg_num:
                out.append("%!" + verb + "(BADINDEX)")
            elif arg_num >= len(self.args):
                out.append("%!" + verb + "(MISSING)")
            else:
                if verb == "v":  # %+v and %#v print as %v: the flags do not apply to it
                    self.sharp = self.plus = False
                self.print_arg(self.args[arg_num], verb)
                arg_num += 1
        if not self.reordered and arg_num < len(self.args):
            self._clear()
            out.append("%!(EXTRA ")
            for n, arg in enumerate(self.args[arg_num:]):
                if n:
                    out.append(", ")
                out.append(type_name(arg) + "=")
                self.print_arg(arg, "v")
            out.append(")")
        return "".join(out)
