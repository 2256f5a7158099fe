"""Go's ``time`` package semantics for :class:`~..objects.Time` values:
civil dates, zones, layout-based formatting and parsing, durations.

A Time is an instant (ns since the Unix epoch) plus a zone name; the wall
clock in that zone is derived on demand.  "Local" is whatever zone the host
names (UTC by default, so a spell's output does not depend on the machine).
"""

from __future__ import annotations

import datetime
import functools
import zoneinfo

from ..objects import Time

NS = 1_000_000_000
DAY = 86_400
ZERO_TIME_NS = -62_135_596_800 * NS  # January 1, year 1, 00:00:00 UTC

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


class TimeError(Exception):
    """A failure the script receives as an error value (Go's error text)."""


# --- civil calendar (proleptic Gregorian, any year) --------------------------


def days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a (normalised) civil date."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(z: int) -> tuple[int, int, int]:
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return y + (m <= 2), m, d


# --- zones -------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def load_zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise TimeError(f"unknown time zone {name}") from None


def _named_zone(name: str, ns: int) -> tuple[int, str]:
    zone = load_zone(name)
    sec = max(min(ns // NS, 253402300799), -62135596800)
    moment = datetime.datetime.fromtimestamp(0, datetime.UTC) + datetime.timedelta(seconds=sec)
    local = moment.astimezone(zone)
    off = local.utcoffset()
    return int(off.total_seconds()) if off is not None else 0, local.tzname() or ""


class Zones:
    """Resolves a Time's zone name to (offset, abbreviation) at its instant."""

    def __init__(self, local: str | None = None) -> None:
        self.local = local if local and local not in ("UTC", "Local") else None

    def lookup(self, zone: str, ns: int, fixed_offset: int = 0) -> tuple[int, str]:
        if zone == "UTC":
            return 0, "UTC"
        if zone == "Local":
            return _named_zone(self.local, ns) if self.local else (0, "UTC")
        if "/" in zone or zone in zoneinfo.available_timezones():
            try:
                return _named_zone(zone, ns)
            except TimeError:
                pass
        return fixed_offset, zone

    def at(self, ns: int, zone: str, fixed_offset: int = 0) -> Time:
        """A Time for instant ns shown in zone."""
        offset, _ = self.lookup(zone, ns, fixed_offset)
        return Time(ns, offset, zone)

    def info(self, t: Time) -> tuple[int, str]:
        return self.lookup(t.zone, t.ns, t.offset)

    def date(self, y: int, mo: int, d: int, h: int, mi: int, s: int, nsec: int, zone: str,
             fixed_offset: int = 0) -> Time:
        """Go's time.Date: out-of-range fields normalise (Oct 32 is Nov 1)."""
        y += (mo - 1) // 12
        mo = (mo - 1) % 12 + 1
        wall = ((days_from_civil(y, mo, 1) + d - 1) * DAY + h * 3600 + mi * 60 + s) * NS + nsec
        off1, _ = self.lookup(zone, wall, fixed_offset)
        ns = wall - off1 * NS
        off2, _ = self.lookup(zone, ns, fixed_offset)
        if off2 != off1:
            alt = wall - off2 * NS
            if self.lookup(zone, alt, fixed_offset)[0] == off2:
                ns = alt
        return self.at(ns, zone, fixed_offset)


class Fields:
    """The wall-clock fields of a Time in its zone."""

    __slots__ = ("year", "month", "day", "hour", "minute", "second", "nsec", "weekday", "yday", "offset",
                 "abbr")

    def __init__(self, t: Time, zones: Zones) -> None:
        self.offset, self.abbr = zones.info(t)
        secs, self.nsec = divmod(t.ns, NS)
        secs += self.offset
        days, rem = divmod(secs, DAY)
        self.year, self.month, self.day = civil_from_days(days)
        self.hour, rem = divmod(rem, 3600)
        self.minute, self.second = divmod(rem, 60)
        self.weekday = (days + 4) % 7
        self.yday = days - days_from_civil(self.year, 1, 1) + 1


# --- layouts ---------------------------------------------------------------------

_TZ_FORMS = ("07:00:00", "070000", "07:00", "0700", "07")


def _is_digit(s: str, i: int) -> bool:
    return i < len(s) and "0" <= s[i] <= "9"


def _chunk_at(layout: str, i: int) -> tuple[int, str] | None:
    """The layout element starting at i, if any, as (start, element)."""
    rest = layout[i:i + 9]
    c = rest[0]
    if c == "J":
        if rest.startswith("January"):
            return i, "January"
        return (i, "Jan") if rest.startswith("Jan") else None
    if c == "M":
        for name in ("Monday", "Mon", "MST"):
            if rest.startswith(name):
                return i, name
        return None
    if c == "0":
        if rest[1:2] and rest[1] in "123456":
            return i, rest[:2]
        return (i, "002") if rest.startswith("002") else None
    if c == "1":
        return (i, "15") if rest.startswith("15") else (i, "1")
    if c == "2":
        return (i, "2006") if rest.startswith("2006") else (i, "2")
    if c == "_":
        if rest.startswith("_2"):
            return (i + 1, "2006") if rest.startswith("_2006") else (i, "_2")
        return (i, "__2") if rest.startswith("__2") else None
    if c in "345":
        return i, c
    if rest.startswith("PM") or rest.startswith("pm"):
        return i, rest[:2]
    if c in "-Z":
        for form in _TZ_FORMS:
            if rest.startswith(form, 1):
                return i, c + form
        return None
    if c in ".," and rest[1:2] and rest[1] in "09":
        ch = rest[1]
        j = i + 1
        while j < len(layout) and layout[j] == ch:
            j += 1
        if not _is_digit(layout, j):
            return i, layout[i:j]
    return None


def next_chunk(layout: str, i: int) -> tuple[int, str]:
    """Find the next layout element at or after i: (start, element);
    element "" means none.  Fractional seconds show as ".000"/",999"."""
    n = len(layout)
    while i < n:
        found = _chunk_at(layout, i)
        if found is not None:
            return found
        i += 1
    return n, ""


def _tz_text(offset: int, chunk: str) -> str:
    if chunk.startswith("Z") and offset == 0:
        return "Z"
    sign = "-" if offset < 0 else "+"
    a = abs(offset)
    hh, mm, ss = a // 3600, (a // 60) % 60, a % 60
    body = chunk[1:]
    if body == "07":
        return f"{sign}{hh:02d}"
    if body == "0700":
        return f"{sign}{hh:02d}{mm:02d}"
    if body == "07:00":
        return f"{sign}{hh:02d}:{mm:02d}"
    if body == "070000":
        return f"{sign}{hh:02d}{mm:02d}{ss:02d}"
    return f"{sign}{hh:02d}:{mm:02d}:{ss:02d}"


def format_time(t: Time, layout: str, zones: Zones) -> str:
    """Go's Time.Format."""
    f = Fields(t, zones)
    out: list[str] = []
    i = 0
    while i < len(layout):
        start, chunk = next_chunk(layout, i)
        out.append(layout[i:start])
        if not chunk:
            break
        i = start + len(chunk)
        out.append(_format_chunk(f, chunk))
    return "".join(out)


def _format_chunk(f: Fields, chunk: str) -> str:
    if chunk == "2006":
        return f"{f.year:04d}" if f.year >= 0 else f"-{-f.year:04d}"
    if chunk == "06":
        return f"{f.year % 100:02d}"
    if chunk == "January":
        return MONTHS[f.month - 1]
    if chunk == "Jan":
        return MONTHS[f.month - 1][:3]
    if chunk == "1":
        return str(f.month)
    if chunk == "01":
        return f"{f.month:02d}"
    if chunk == "Monday":
        return DAYS[f.weekday]
    if chunk == "Mon":
        return DAYS[f.weekday][:3]
    if chunk == "2":
        return str(f.day)
    if chunk == "_2":
        return f"{f.day:2d}"
    if chunk == "02":
        return f"{f.day:02d}"
    if chunk == "__2":
        return f"{f.yday:3d}"
    if chunk == "002":
        return f"{f.yday:03d}"
    if chunk == "15":
        return f"{f.hour:02d}"
    if chunk in ("3", "03"):
        h = f.hour % 12 or 12
        return str(h) if chunk == "3" else f"{h:02d}"
    if chunk == "4":
        return str(f.minute)
    if chunk == "04":
        return f"{f.minute:02d}"
    if chunk == "5":
        return str(f.second)
    if chunk == "05":
        return f"{f.second:02d}"
    if chunk == "PM":
        return "PM" if f.hour >= 12 else "AM"
    if chunk == "pm":
        return "pm" if f.hour >= 12 else "am"
    if chunk == "MST":
        if f.abbr:
            return f.abbr
        return _tz_text(f.offset, "-0700")
    if chunk[0] in "-Z":
        return _tz_text(f.offset, chunk)
    # fractional seconds
    digits = f"{f.nsec:09d}"[: len(chunk) - 1]
    if chunk[1] == "9":
        digits = digits.rstrip("0")
        if not digits:
            return ""
    return chunk[0] + digits


_GO_QUOTE_TRANS = {ord('"'): '\\"', ord("\\"): "\\\\"}


def _quote(s: str) -> str:
    return '"' + s.translate(_GO_QUOTE_TRANS) + '"'


class _Bad(Exception):
    pass


def _getnum(value: str, fixed: bool) -> tuple[int, str]:
    if not _is_digit(value, 0):
        raise _Bad
    if not _is_digit(value, 1):
        if fixed:
            raise _Bad
        return int(value[0]), value[1:]
    return int(value[:2]), value[2:]


def _lookup(names: list[str], value: str) -> tuple[int, str]:
    for i, name in enumerate(names):
        if len(value) >= len(name) and value[: len(name)].lower() == name.lower():
            return i, value[len(name):]
    raise _Bad


def parse_time(layout: str, value: str, zones: Zones) -> Time:
    """Go's time.Parse (times without a zone are UTC)."""
    orig_value = value
    year, month, day, yday = 1, -1, -1, -1
    hour = minute = sec = nsec = 0
    pm_set = am_set = False
    z_offset: int | None = None
    z_name = ""
    utc = False
    i = 0
    range_err = ""
    while True:
        start, chunk = next_chunk(layout, i)
        prefix = layout[i:start]
        if not value.startswith(prefix):
            raise TimeError(f"parsing time {_quote(orig_value)} as {_quote(layout)}: cannot parse "
                            f"{_quote(value)} as {_quote(prefix)}")
        value = value[len(prefix):]
        if not chunk:
            if value:
                raise TimeError(f"parsing time {_quote(orig_value)}: extra text: {_quote(value)}")
            break
        i = start + len(chunk)
        hold = value
        try:
            if chunk == "2006":
                if len(value) < 4 or not value[:4].isdigit():
                    raise _Bad
                year, value = int(value[:4]), value[4:]
            elif chunk == "06":
                n, value = _getnum(value, True)
                year = n + (1900 if n >= 69 else 2000)
            elif chunk in ("January", "Jan"):
                names = list(MONTHS) if chunk == "January" else [m[:3] for m in MONTHS]
                idx, value = _lookup(names, value)
                month = idx + 1
            elif chunk in ("1", "01"):
                month, value = _getnum(value, chunk == "01")
                if not 1 <= month <= 12:
                    range_err = "month"
            elif chunk in ("Monday", "Mon"):
                names = list(DAYS) if chunk == "Monday" else [d[:3] for d in DAYS]
                _, value = _lookup(names, value)
            elif chunk in ("2", "_2", "02"):
                if chunk == "_2" and value[:1] == " ":
                    value = value[1:]
                day, value = _getnum(value, chunk == "02")
            elif chunk in ("__2", "002"):
                if chunk == "__2":
                    value = value.lstrip(" ") if len(value) - len(value.lstrip(" ")) <= 2 else value
                digits = value[:3]
                if not digits.isdigit() or (chunk == "002" and len(digits) != 3):
                    raise _Bad
                yday, value = int(digits), value[3:]
                if not 1 <= yday <= 366:
                    range_err = "day-of-year"
            elif chunk == "15":
                hour, value = _getnum(value, False)
                if hour > 23:
                    range_err = "hour"
            elif chunk in ("3", "03"):
                hour, value = _getnum(value, chunk == "03")
                if hour > 12:
                    range_err = "hour"
            elif chunk in ("4", "04"):
                minute, value = _getnum(value, chunk == "04")
                if minute > 59:
                    range_err = "minute"
            elif chunk in ("5", "05"):
                sec, value = _getnum(value, chunk == "05")
                if sec > 59:
                    range_err = "second"
                nxt = next_chunk(layout, i)[1]
                if (len(value) >= 2 and value[0] in ".," and _is_digit(value, 1)
                        and not (nxt[:1] in ".," and next_chunk(layout, i)[0] == i)):
                    j = 1
                    while _is_digit(value, j):
                        j += 1
                    nsec = _frac(value[1:j])
                    value = value[j:]
            elif chunk in ("PM", "pm"):
                part = value[:2]
                if part.upper() == "PM" and (part.isupper() == (chunk == "PM")):
                    pm_set = True
                elif part.upper() == "AM" and (part.isupper() == (chunk == "PM")):
                    am_set = True
                else:
                    raise _Bad
                value = value[2:]
            elif chunk[0] in "-Z":
                if chunk[0] == "Z" and value[:1] == "Z":
                    value = value[1:]
                    utc = True
                else:
                    z_offset, value = _parse_offset(value, chunk[1:])
            elif chunk == "MST":
                if value.startswith("UTC"):
                    value = value[3:]
                    utc = True
                else:
                    n = _zone_name_len(value)
                    if n <= 0:
                        raise _Bad
                    z_name, value = value[:n], value[n:]
            else:  # fractional seconds
                if chunk[1] == "0":
                    n = len(chunk) - 1
                    if len(value) < n + 1 or value[0] != chunk[0] or not value[1:n + 1].isdigit():
                        raise _Bad
                    nsec, value = _frac(value[1:n + 1]), value[n + 1:]
                elif len(value) >= 2 and value[0] in ".," and _is_digit(value, 1):
                    j = 1
                    while _is_digit(value, j):
                        j += 1
                    nsec, value = _frac(value[1:j]), value[j:]
        except _Bad:
            raise TimeError(f"parsing time {_quote(orig_value)} as {_quote(layout)}: cannot parse "
                            f"{_quote(hold)} as {_quote(chunk)}") from None
        if range_err:
            raise TimeError(f"parsing time {_quote(orig_value)}: {range_err} out of range")
    if pm_set and hour < 12:
        hour += 12
    elif am_set and hour == 12:
        hour = 0
    if yday >= 0:
        m, d = _from_yday(year, yday)
        if (month >= 0 and month != m) or (day >= 0 and day != d):
            raise TimeError(f"parsing time {_quote(orig_value)}: day-of-year does not match")
        month, day = m, d
    if month < 0:
        month = 1
    if day < 0:
        day = 1
    if day > _days_in(year, month):
        raise TimeError(f"parsing time {_quote(orig_value)}: day out of range")
    if utc:
        return zones.date(year, month, day, hour, minute, sec, nsec, "UTC")
    if z_offset is not None:
        t = zones.date(year, month, day, hour, minute, sec, nsec, "UTC")
        ns = t.ns - z_offset * NS
        if zones.lookup("Local", ns)[0] == z_offset:
            return zones.at(ns, "Local")
        return Time(ns, z_offset, "")
    if z_name:
        t = zones.date(year, month, day, hour, minute, sec, nsec, "UTC")
        off, abbr = zones.lookup("Local", t.ns)
        if abbr == z_name:
            return zones.at(t.ns - off * NS, "Local")
        offset = 0
        if z_name.startswith("GMT") and len(z_name) > 3:
            offset = int(z_name[3:]) * 3600
        return Time(t.ns - offset * NS, offset, z_name)
    return zones.date(year, month, day, hour, minute, sec, nsec, "UTC")


def _frac(digits: str) -> int:
    return int((digits + "000000000")[:9])


def _days_in(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _from_yday(year: int, yday: int) -> tuple[int, int]:
    days = days_from_civil(year, 1, 1) + yday - 1
    y, m, d = civil_from_days(days)
    if y != year:
        raise TimeError("day-of-year out of range")
    return m, d


def _parse_offset(value: str, body: str) -> tuple[int, str]:
    if not value or value[0] not in "+-":
        raise _Bad
    sign = -1 if value[0] == "-" else 1
    v = value[1:]
    if body == "07":
        parts, width = [v[:2]], 2
    elif body == "0700":
        parts, width = [v[:2], v[2:4]], 4
    elif body == "07:00":
        if v[2:3] != ":":
            raise _Bad
        parts, width = [v[:2], v[3:5]], 5
    elif body == "070000":
        parts, width = [v[:2], v[2:4], v[4:6]], 6
    else:
        if v[2:3] != ":" or v[5:6] != ":":
            raise _Bad
        parts, width = [v[:2], v[3:5], v[6:8]], 8
    if any(len(p) != 2 or not p.isdigit() for p in parts):
        raise _Bad
    nums = [int(p) for p in parts] + [0, 0]
    if nums[0] > 24 or nums[1] > 60 or nums[2] > 60:
        raise _Bad
    return sign * (nums[0] * 3600 + nums[1] * 60 + nums[2]), v[width:]


def _zone_name_len(value: str) -> int:
    if len(value) < 3:
        return 0
    if value.startswith("ChST") or value.startswith("MeST"):
        return 4
    if value.startswith("GMT"):
        n = 3
        if len(value) > 3 and value[3] in "+-":
            j = 4
            while _is_digit(value, j):
                j += 1
            return j if j > 4 else 3
        return n
    n = 0
    while n < len(value) and "A" <= value[n] <= "Z":
        n += 1
    if n in (3, 4, 5):
        return n
    return 0


# --- durations ---------------------------------------------------------------------

_UNITS = {"ns": 1, "us": 1000, "µs": 1000, "μs": 1000, "ms": 1_000_000, "s": NS, "m": 60 * NS,
          "h": 3600 * NS}


def parse_duration(s: str) -> int:
    """Go's time.ParseDuration."""
    orig = s
    bad = TimeError(f"time: invalid duration {_quote(orig)}")
    neg = False
    if s[:1] in "+-":
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise bad
    total = 0
    while s:
        if not (s[0] == "." or s[0].isdigit()):
            raise bad
        j = 0
        while j < len(s) and s[j].isdigit():
            j += 1
        whole = s[:j]
        s = s[j:]
        frac = ""
        if s[:1] == ".":
            s = s[1:]
            j = 0
            while j < len(s) and s[j].isdigit():
                j += 1
            frac = s[:j]
            s = s[j:]
        if not whole and not frac:
            raise bad
        j = 0
        while j < len(s) and s[j] != "." and not s[j].isdigit():
            j += 1
        unit_name = s[:j]
        s = s[j:]
        if not unit_name:
            raise TimeError(f"time: missing unit in duration {_quote(orig)}")
        unit = _UNITS.get(unit_name)
        if unit is None:
            raise TimeError(f"time: unknown unit {_quote(unit_name)} in duration {_quote(orig)}")
        value = int(whole or "0") * unit
        if frac:
            value += int(frac) * unit // 10 ** len(frac)
        total += value
        if total > (1 << 63) - (0 if neg else 1):
            raise bad
    return -total if neg else total


def duration_string(d: int) -> str:
    """Go's Duration.String: "1h2m3.5s", "1.5ms", "0s"."""
    if d == 0:
        return "0s"
    neg = d < 0
    u = -d if neg else d
    if u < NS:
        if u < 1000:
            text = f"{u}ns"
        elif u < 1_000_000:
            text = _frac_text(u, 3) + "µs"
        else:
            text = _frac_text(u, 6) + "ms"
    else:
        secs_text = _frac_text(u % (60 * NS), 9) + "s"
        minutes = u // (60 * NS)
        if minutes == 0:
            text = secs_text
        else:
            hours, minutes = divmod(minutes, 60)
            text = (f"{hours}h" if hours else "") + f"{minutes}m" + secs_text
    return ("-" if neg else "") + text


def _frac_text(v: int, digits: int) -> str:
    whole, frac = divmod(v, 10 ** digits)
    frac_text = f"{frac:0{digits}d}".rstrip("0")
    return f"{whole}.{frac_text}" if frac_text else str(whole)
