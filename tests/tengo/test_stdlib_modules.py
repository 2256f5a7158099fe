"""Behaviour of the standard library beyond the reference's cases: the
sandbox in ``os``, linear-time regular expressions, Go formatting, times."""

from __future__ import annotations

import pathlib
import time
from typing import Any

import pytest

from llmspell.engines.tengo.formatter import format_string
from llmspell.engines.tengo.objects import UNDEFINED, Error, ImmutableMap, TengoError, Time, WrongNumArguments
from llmspell.engines.tengo.stdlib import MODULE_NAMES, get_module
from llmspell.sandbox.policy import Policy as SandboxPolicy


def Policy(readable: pathlib.Path | None = None, env: set[str] = frozenset(),  # noqa: N802 - was a fake
           commands: set[str] = frozenset()) -> SandboxPolicy:
    """The real sandbox policy: ``readable`` may be read and written."""
    folder = (str(readable),) if readable else None
    return SandboxPolicy(allow_read=folder, allow_write=folder, allow_env=tuple(env) or None,
                         allow_run=tuple(commands) or None)


class Host:
    def __init__(self, policy: Policy, root: pathlib.Path, environ: dict[str, str] | None = None) -> None:
        self.policy = policy
        self.root = root
        self.environ = environ if environ is not None else {}
        self.written: list[str] = []

    def write(self, text: str) -> None:
        self.written.append(text)

    def cwd(self) -> pathlib.Path:
        return self.root


def os_module(tmp_path: pathlib.Path, **kw: Any) -> tuple[ImmutableMap, Host]:
    environ = kw.pop("environ", None)
    host = Host(Policy(**kw), tmp_path, environ)
    return get_module("os", host), host


# --- os and the sandbox -----------------------------------------------------------


def test_denied_read_is_an_error_value(tmp_path: pathlib.Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    os_mod, _ = os_module(tmp_path)  # nothing granted
    for fn in ("read_file", "stat", "open"):
        result = os_mod[fn](str(secret))
        assert isinstance(result, Error), fn
        assert result.value.startswith("permission_denied: ")


def test_allowed_read_and_write_work(tmp_path: pathlib.Path) -> None:
    os_mod, _ = os_module(tmp_path, readable=tmp_path)
    f = os_mod["create"]("notes.txt")  # relative to the host's cwd
    assert isinstance(f, ImmutableMap)
    assert f["write_string"]("hello") == 5
    assert f["close"]() is True
    assert os_mod["read_file"]("notes.txt") == b"hello"
    info = os_mod["stat"]("notes.txt")
    assert info["size"] == 5 and info["directory"] is False and info["name"] == "notes.txt"
    assert isinstance(info["mtime"], Time)
    assert os_mod["remove"]("notes.txt") is True
    missing = os_mod["read_file"]("notes.txt")
    assert isinstance(missing, Error) and "no such file or directory" in missing.value


def test_writes_outside_the_granted_folder_are_refused(tmp_path: pathlib.Path) -> None:
    granted = tmp_path / "granted"
    granted.mkdir()
    os_mod, _ = os_module(granted, readable=granted)
    for name in ("../escape.txt", str(tmp_path / "escape.txt")):
        result = os_mod["create"](name)
        assert isinstance(result, Error) and result.value.startswith("permission_denied")
    assert not (tmp_path / "escape.txt").exists()
    assert isinstance(os_mod["mkdir"]("../x", 0o755), Error)
    assert isinstance(os_mod["rename"]("a", "../b"), Error)


def test_environment_goes_through_the_policy(tmp_path: pathlib.Path) -> None:
    os_mod, host = os_module(tmp_path, env={"GREETING"}, environ={"GREETING": "hi", "API_KEY": "sk-1"})
    assert os_mod["getenv"]("GREETING") == "hi"
    denied = os_mod["getenv"]("API_KEY")
    assert isinstance(denied, Error) and "permission_denied" in denied.value
    assert os_mod["environ"]() == ["GREETING=hi"]
    assert isinstance(os_mod["expand_env"]("$API_KEY"), Error)
    assert os_mod["expand_env"]("${GREETING}, $GREETING!") == "hi, hi!"
    assert os_mod["lookup_env"]("GREETING") == "hi"
    assert os_mod["setenv"]("GREETING", "yo") is True
    assert host.environ["GREETING"] == "yo"  # the spell's own environment, not the process's


def test_processes_are_denied_unless_allowed(tmp_path: pathlib.Path) -> None:
    os_mod, _ = os_module(tmp_path)
    for result in (os_mod["exec"]("echo", "x"), os_mod["start_process"]("echo", ["echo"], "", []),
                   os_mod["exec_look_path"]("echo"), os_mod["find_process"](1)):
        assert isinstance(result, Error) and result.value.startswith("permission_denied")
    allowed, _ = os_module(tmp_path, commands={"echo"})
    cmd = allowed["exec"]("echo", "foo", "bar")
    assert cmd["output"]() == b"foo bar\n"


def test_read_fills_the_callers_bytes_in_place(tmp_path: pathlib.Path) -> None:
    """file.read(buf) and rand.read(buf) fill buf, as Go's byte slices are;
    copy(buf) is a new buffer; a string argument is read into a copy."""
    from llmspell.engines.tengo.program import compile_program

    (tmp_path / "in.txt").write_text("foobar")
    host = Host(Policy(readable=tmp_path), tmp_path)
    src = """
    os := import("os"); rand := import("rand")
    f := os.open("in.txt")
    buf := bytes(8); alias := buf; kept := copy(buf)
    n := f.read(buf)
    s := "abc"
    r := bytes(16); rand.read(r)
    out = [n, string(alias[:n]), kept, type_name(buf), is_bytes(buf), f.read("xyz"), rand.read(s), s, r != bytes(16)]
    """
    prog = compile_program(src, "t", globals_names=["out"], module_loader=lambda name: get_module(name, host))
    out = prog.run({}).globals["out"]
    assert out[:6] == [6, "foobar", bytes(8), "bytes", True, Error("EOF")]
    assert out[6:] == [3, "abc", True]


def test_exit_stops_the_script_not_the_host(tmp_path: pathlib.Path) -> None:
    os_mod, _ = os_module(tmp_path)
    with pytest.raises(TengoError) as info:
        os_mod["exit"](3)
    assert info.value.code == 3


def test_os_constants_and_argument_errors(tmp_path: pathlib.Path) -> None:
    os_mod, _ = os_module(tmp_path)
    assert os_mod["o_rdonly"] == 0 and os_mod["mode_dir"] == 1 << 31 and os_mod["seek_end"] == 2
    with pytest.raises(WrongNumArguments):
        os_mod["stat"]()


# --- regular expressions -----------------------------------------------------------


def test_regex_matching_stays_linear() -> None:
    text = get_module("text", None)
    subject = "a" * 30  # catastrophic for a backtracking engine
    start = time.perf_counter()
    assert text["re_match"]("(a*)*b", subject) is False
    assert text["re_find"]("(a|aa)*c", "a" * 5000) is UNDEFINED
    assert time.perf_counter() - start < 1.0


def test_regex_offsets_are_utf8_bytes() -> None:
    text = get_module("text", None)
    found = text["re_find"]("(b)", "일b")
    assert found[0][0]["begin"] == 3 and found[0][0]["end"] == 4
    assert text["index"]("일b", "b") == 3


def test_regex_go_semantics() -> None:
    text = get_module("text", None)
    assert text["re_replace"]("a*", "baaac", "-") == "-b-c-"
    assert text["re_replace"]("(?P<w>\\w+)", "hi you", "<${w}>") == "<hi> <you>"
    assert text["re_replace"]("(a)", "a", "$1x") == ""  # $1x names group "1x", as in Go
    assert isinstance(text["re_match"]("(", "x"), Error)
    compiled = text["re_compile"]("\\d+")
    assert compiled["split"]("a1b22c", -1) == ["a", "b", "c"]


# --- formatting ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "args", "want"),
    [
        ("%5.2f|%-6d|%06.1f", [3.14159, 42, -2.5], " 3.14|42    |-002.5"),
        ("%x %X %o %b %#x %c %U", [255, 255, 8, 5, 255, 0x4E16, 0x4E16], "ff FF 10 101 0xff 世 U+4E16"),
        ("%e %g %g %.3g", [123456.0, 1e21, 1e-7, 2.0 / 3], "1.234560e+05 1e+21 1e-07 0.667"),
        ("%q %v %s %T", ["a\n", "a", "a", [1]], '"a\\n" "a" a array'),
        ("%d %d", [1], "1 %!d(MISSING)"),
        ("%d", [1, "x"], '1%!(EXTRA string="x")'),
        ("%t %v", [True, {"k": [1, "v"]}], 'true {k: [1, "v"]}'),
        ("%[2]d-%[1]d %[5]d|%*d", [1, 2], "2-1 %!d(BADINDEX)|%!d(MISSING)"),
    ],
)
def test_format_string(fmt: str, args: list, want: str) -> None:
    assert format_string(fmt, args) == want


def test_fmt_prints_through_the_host(tmp_path: pathlib.Path) -> None:
    host = Host(Policy(), tmp_path)
    fmt = get_module("fmt", host)
    fmt["print"]("a", 1)
    fmt["println"]("b", [1, "c"])
    fmt["printf"]("%03d", 7)
    assert "".join(host.written) == 'a1b [1, "c"]\n007'  # Go's Println spaces its operands


# --- times, json, text ------------------------------------------------------------------


def test_times_layouts_round_trip() -> None:
    times = get_module("times", None)
    t = times["date"](2024, 2, 29, 13, 5, 9, 120_000_000, "America/New_York")
    assert times["time_format"](t, times["format_rfc1123z"]) == "Thu, 29 Feb 2024 13:05:09 -0500"
    assert times["time_format"](t, "Jan _2 3:04:05.000PM MST") == "Feb 29 1:05:09.120PM EST"
    parsed = times["parse"](times["format_rfc3339_nano"], "2024-02-29T13:05:09.12-05:00")
    assert times["time_unix_nano"](parsed) == times["time_unix_nano"](t)
    bad = times["parse"]("2006-01-02", "2024-02-30")
    assert isinstance(bad, Error) and "day out of range" in bad.value
    assert times["add_date"](times["date"](2011, 1, 1, 0, 0, 0, 0), -1, 2, 3) == times["date"](
        2010, 3, 4, 0, 0, 0, 0)
    assert times["duration_string"](times["parse_duration"]("1h2m3.5s")) == "1h2m3.5s"
    assert times["time_weekday"](t) == 4


def test_json_round_trip_and_errors() -> None:
    json = get_module("json", None)
    data = {"b": [1, 2.5, "x<y"], "a": True, "n": UNDEFINED}
    encoded = json["encode"](data)
    assert encoded == b'{"a":true,"b":[1,2.5,"x<y"],"n":null}'
    assert json["decode"](encoded) == {"a": True, "b": [1, 2.5, "x<y"], "n": UNDEFINED}
    assert isinstance(json["decode"]("{bad"), Error)
    assert json["indent"]("[]", "", "  ") == b"[]"
    assert json["encode"](float("nan")).value == "unsupported float value"


def test_text_conversions() -> None:
    text = get_module("text", None)
    assert text["parse_int"]("0x1f", 0, 64) == 31
    assert isinstance(text["parse_int"]("999", 10, 8), Error)
    assert text["atoi"]("x").value == 'strconv.Atoi: parsing "x": invalid syntax'
    assert text["unquote"]('"a\\tb\\u00e9"') == "a\tbé"
    assert text["format_float"](1.5, "e", 2, 64) == "1.50e+00"
    assert text["title"]("hello wide world") == "Hello Wide World"
    assert text["split_n"]("a,b,c", ",", 2) == ["a", "b,c"]


def test_every_module_builds() -> None:
    for name in MODULE_NAMES:
        module = get_module(name, Host(Policy(), pathlib.Path(".")))
        assert isinstance(module, (ImmutableMap, str)), name
    assert get_module("http", None) is None
