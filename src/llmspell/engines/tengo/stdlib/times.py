"""Tengo's ``times`` module.

Clock reads (``now``, ``since``, ``until``) and ``sleep`` go through the host
when it offers them (``now_ns()``, ``sleep(seconds)``), so a runtime can make
spells replayable; otherwise the system clock is used.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable
from typing import Any

from ..objects import INT64_MAX, INT64_MIN, UNDEFINED, Error, ImmutableMap, Time, wrap
from . import _gotime as gt
from ._args import SizeLimits, arg_int, arg_str, arg_time, module, nargs

_LAYOUTS = {
    "format_ansic": "Mon Jan _2 15:04:05 2006",
    "format_unix_date": "Mon Jan _2 15:04:05 MST 2006",
    "format_ruby_date": "Mon Jan 02 15:04:05 -0700 2006",
    "format_rfc822": "02 Jan 06 15:04 MST",
    "format_rfc822z": "02 Jan 06 15:04 -0700",
    "format_rfc850": "Monday, 02-Jan-06 15:04:05 MST",
    "format_rfc1123": "Mon, 02 Jan 2006 15:04:05 MST",
    "format_rfc1123z": "Mon, 02 Jan 2006 15:04:05 -0700",
    "format_rfc3339": "2006-01-02T15:04:05Z07:00",
    "format_rfc3339_nano": "2006-01-02T15:04:05.999999999Z07:00",
    "format_kitchen": "3:04PM",
    "format_stamp": "Jan _2 15:04:05",
    "format_stamp_milli": "Jan _2 15:04:05.000",
    "format_stamp_micro": "Jan _2 15:04:05.000000",
    "format_stamp_nano": "Jan _2 15:04:05.000000000",
}

_DURATIONS = {
    "nanosecond": 1,
    "microsecond": 1000,
    "millisecond": 1_000_000,
    "second": gt.NS,
    "minute": 60 * gt.NS,
    "hour": 3600 * gt.NS,
}


def format_layout(t: Time, layout: str, local: str | None = None) -> str:
    """Format t with a Go layout (used by ``json`` for times)."""
    return gt.format_time(t, layout, gt.Zones(local))


def _saturate(n: int) -> int:
    return max(INT64_MIN, min(INT64_MAX, n))


def build(host: Any) -> ImmutableMap:
    limits = SizeLimits.of(host)
    zones = gt.Zones(getattr(host, "local_timezone", None))
    host_now = getattr(host, "now_ns", None)
    host_sleep = getattr(host, "sleep", None)

    def now_ns() -> int:
        return int(host_now()) if callable(host_now) else _time.time_ns()

    def t1(fn: Callable[[Time], Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            nargs(args, 1)
            return fn(arg_time(args, 0))

        return call

    def field(name: str) -> Callable[..., Any]:
        return t1(lambda t: getattr(gt.Fields(t, zones), name))

    def d1(fn: Callable[[int], Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            nargs(args, 1)
            return fn(arg_int(args, 0))

        return call

    def sleep(*args: Any) -> Any:
        nargs(args, 1)
        d = arg_int(args, 0)
        if d > 0:
            (host_sleep if callable(host_sleep) else _time.sleep)(d / gt.NS)
        return UNDEFINED

    def parse_duration(*args: Any) -> Any:
        nargs(args, 1)
        try:
            return gt.parse_duration(arg_str(args, 0))
        except gt.TimeError as exc:
            return Error(str(exc))

    def month_string(*args: Any) -> str:
        nargs(args, 1)
        m = arg_int(args, 0)
        return gt.MONTHS[m - 1] if 1 <= m <= 12 else f"%!Month({m})"

    def date(*args: Any) -> Any:
        if len(args) not in (7, 8):
            nargs(args, 7)
        fields = [arg_int(args, i) for i in range(7)]
        zone = "Local"
        if len(args) == 8:
            zone = arg_str(args, 7)
            if zone not in ("Local", "UTC", ""):
                try:
                    gt.load_zone(zone)
                except gt.TimeError as exc:
                    return Error(str(exc))
            zone = zone or "UTC"
        return zones.date(*fields, zone)

    def now(*args: Any) -> Time:
        nargs(args, 0)
        return zones.at(now_ns(), "Local")

    def parse(*args: Any) -> Any:
        nargs(args, 2)
        try:
            return gt.parse_time(arg_str(args, 0), arg_str(args, 1), zones)
        except gt.TimeError as exc:
            return Error(str(exc))

    def unix(*args: Any) -> Time:
        nargs(args, 2)
        return zones.at(arg_int(args, 0) * gt.NS + arg_int(args, 1), "Local")

    def add(*args: Any) -> Time:
        nargs(args, 2)
        t = arg_time(args, 0)
        return zones.at(t.ns + arg_int(args, 1), t.zone, t.offset)

    def add_date(*args: Any) -> Time:
        nargs(args, 4)
        t = arg_time(args, 0)
        y, m, d = arg_int(args, 1), arg_int(args, 2), arg_int(args, 3)
        f = gt.Fields(t, zones)
        return zones.date(f.year + y, f.month + m, f.day + d, f.hour, f.minute, f.second, f.nsec, t.zone,
                          t.offset)

    def sub(*args: Any) -> int:
        nargs(args, 2)
        return _saturate(arg_time(args, 0).ns - arg_time(args, 1).ns)

    def compare(fn: Callable[[int, int], bool]) -> Callable[..., bool]:
        def call(*args: Any) -> bool:
            nargs(args, 2)
            return fn(arg_time(args, 0).ns, arg_time(args, 1).ns)

        return call

    def time_format(*args: Any) -> str:
        nargs(args, 2)
        return gt.format_time(arg_time(args, 0), arg_str(args, 1), zones)

    def in_location(*args: Any) -> Any:
        nargs(args, 2)
        t, name = arg_time(args, 0), arg_str(args, 1)
        if name not in ("Local", "UTC", ""):
            try:
                gt.load_zone(name)
            except gt.TimeError as exc:
                return Error(str(exc))
        return zones.at(t.ns, name or "UTC")

    def location_name(t: Time) -> str:
        return t.zone

    return module(
        {
            **_LAYOUTS,
            **_DURATIONS,
            **{name.lower(): i + 1 for i, name in enumerate(gt.MONTHS)},
            "sleep": sleep,
            "parse_duration": parse_duration,
            "since": t1(lambda t: _saturate(now_ns() - t.ns)),
            "until": t1(lambda t: _saturate(t.ns - now_ns())),
            "duration_hours": d1(lambda d: d / (3600 * gt.NS)),
            "duration_minutes": d1(lambda d: d / (60 * gt.NS)),
            "duration_nanoseconds": d1(lambda d: d),
            "duration_seconds": d1(lambda d: d / gt.NS),
            "duration_string": d1(gt.duration_string),
            "month_string": month_string,
            "date": date,
            "now": now,
            "parse": parse,
            "unix": unix,
            "add": add,
            "add_date": add_date,
            "sub": sub,
            "after": compare(lambda a, b: a > b),
            "before": compare(lambda a, b: a < b),
            "time_year": field("year"),
            "time_month": field("month"),
            "time_day": field("day"),
            "time_weekday": field("weekday"),
            "time_hour": field("hour"),
            "time_minute": field("minute"),
            "time_second": field("second"),
            "time_nanosecond": field("nsec"),
            "time_unix": t1(lambda t: wrap(t.ns // gt.NS)),
            "time_unix_nano": t1(lambda t: wrap(t.ns)),
            "time_format": time_format,
            "time_location": t1(location_name),
            "time_string": t1(lambda t: gt.format_time(t, "2006-01-02 15:04:05.999999999 -0700 MST", zones)),
            "is_zero": t1(lambda t: t.ns == gt.ZERO_TIME_NS),
            "to_local": t1(lambda t: zones.at(t.ns, "Local")),
            "to_utc": t1(lambda t: zones.at(t.ns, "UTC")),
            "in_location": in_location,
        },
        limits,
    )
