"""``tools.mcp``: tools from Model Context Protocol servers, in Lua, JavaScript and Tengo.

A small MCP server the suite starts itself (tests/support/mcp_server.py) is
reached over stdio (started by the run, under ``--allow-run``) and streamable
HTTP on 127.0.0.1 (under ``--allow-net``), through ``Runtime`` in both isolation
modes and through the CLI.  Every way around a grant is refused before anything
starts or is sent; a server that fails, dies, stalls or says too much is a clear
error the spell can catch; the server ends with the run.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from llmspell import SpellError
from llmspell.sandbox import Policy, kernel

LANGS = {"lua": "lua", "js": "javascript", "tengo": "tengo"}
EXT = {"lua": "lua", "js": "js", "tengo": "tengo"}
SERVER = Path(__file__).parent / "support" / "mcp_server.py"
PY = sys.executable
REPO = Path(__file__).resolve().parents[1]

# -- the servers --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HttpServer:
    """tests/support/mcp_server.py over streamable HTTP on 127.0.0.1, in a process of its own."""

    def __init__(self, name: str = "web") -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        self.proc = subprocess.Popen([PY, str(SERVER), "http", str(self.port), name],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        self.close()
        raise RuntimeError("the test MCP server did not start")

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture(scope="module")
def http_server() -> Iterator[HttpServer]:
    server = HttpServer()
    yield server
    server.close()


class Redirector:
    """An HTTP server on 127.0.0.1 that answers every request with a redirect to ``target``
    and counts what it was asked."""

    def __init__(self, target: str) -> None:
        hits: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                hits.append(self.command)
                self.send_response(307)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_DELETE = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.hits = hits
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def stdio(name: str = "local", **more: Any) -> dict[str, Any]:
    return {"command": PY, "args": [str(SERVER), "stdio", name], **more}


def grants(*read: str, **more: Any) -> Policy:
    """What a spell needs to start the test server: that Python, and its script to read (and ``read``)."""
    return Policy(allow_run=(PY,), allow_read=(str(SERVER), *read), **more)


def run(isolated, lang: str, src: str, params: dict, **kwargs: Any) -> Any:
    kwargs.setdefault("isolation", "inline")
    rt, _ = isolated.runtime(**kwargs)
    return rt.run(source=src, language=LANGS[lang], filename=f"spell.{EXT[lang]}", params=params)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# -- the spells ---------------------------------------------------------------------------------

#: ``try``/``attempt`` in each language: {kind, message} of a failed call, ["ok", value] of one that worked.
TRY = {
    "lua": """
local function try(f, ...)
  local ok, e = pcall(f, ...)
  if ok then return {"ok", e} end
  return {e.kind, e.message}
end
""",
    "js": """
async function attempt(f) {
  try { return ["ok", await f()]; } catch (e) { return [e.kind, e.message]; }
}
""",
    "tengo": """
attempt := func(r) {
  if is_error(r) { return [r.value.kind, r.value.message] }
  return ["ok", r]
}
""",
}

#: Connect params.server (prefix m), call its tools every way, and say what was seen.
USE = {
    "lua": TRY["lua"] + """
local names = tools.mcp(params.server)
local listed
for _, t in ipairs(tools.list()) do if t.name == "m_add" then listed = t end end
return {
  names = names,
  again = tools.mcp(params.server),
  add = try(tools.m_add, 2, 3),
  add_table = try(tools.call, "m_add", {a = 4, b = 5}),
  echo = try(tools.m_echo, "hi"),
  stats = try(tools.m_stats, {numbers = {1, 2, 3.5}}),
  bad = try(tools.m_add, "x", 1),
  fail = try(tools.m_fail, "boom"),
  header = try(tools.m_header, "X-Token"),
  env = try(tools.m_env_names),
  listed = listed,
}
""",
    "js": TRY["js"] + """
const names = await tools.mcp(params.server);
const listed = (await tools.list()).find((t) => t.name === "m_add");
return {
  names,
  again: await tools.mcp(params.server),
  add: await attempt(() => tools.m_add(2, 3)),
  add_table: await attempt(() => tools.call("m_add", {a: 4, b: 5})),
  echo: await attempt(() => tools.m_echo("hi")),
  stats: await attempt(() => tools.m_stats({numbers: [1, 2, 3.5]})),
  bad: await attempt(() => tools.m_add("x", 1)),
  fail: await attempt(() => tools.m_fail("boom")),
  header: await attempt(() => tools.m_header("X-Token")),
  env: await attempt(() => tools.m_env_names()),
  listed,
};
""",
    "tengo": TRY["tengo"] + """
names := tools.mcp(params.server)
listed := undefined
for t in tools.list() { if t.name == "m_add" { listed = t } }
export {
  names: names,
  again: tools.mcp(params.server),
  add: attempt(tools.m_add(2, 3)),
  add_table: attempt(tools.call("m_add", {a: 4, b: 5})),
  echo: attempt(tools.m_echo("hi")),
  stats: attempt(tools.m_stats({numbers: [1, 2, 3.5]})),
  bad: attempt(tools.m_add("x", 1)),
  fail: attempt(tools.m_fail("boom")),
  header: attempt(tools.m_header("X-Token")),
  env: attempt(tools.m_env_names()),
  listed: listed
}
""",
}

TOOL_NAMES = ["add", "echo", "stats", "blob", "fail", "crash", "stall", "env", "env_names", "read", "shout", "pid",
              "header"]


def _check_use(r: dict, server_name: str, header: str, env: list[str] | None) -> None:
    names = [f"m_{n}" for n in TOOL_NAMES]
    assert r["names"] == names and r["again"] == names  # the same server twice: one connection
    assert r["add"] == ["ok", 5] and r["add_table"] == ["ok", 9]
    assert r["echo"] == ["ok", f"{server_name}: hi"]
    assert r["stats"] == ["ok", {"count": 3, "sum": 6.5}]
    # Validated against the server's JSON Schema here, before anything is sent.
    assert r["bad"] == ["invalid_argument", "m_add: a must be an integer, not a string"]
    assert r["fail"] == ["tool_error", "m_fail: Error executing tool fail: boom"]
    assert r["header"] == ["ok", header]
    kind, seen = r["env"]
    assert kind == "ok"
    if env is not None:  # a server the run started: exactly what it was given (Python itself may add LC_CTYPE)
        assert [n for n in seen if n != "LC_CTYPE"] == env
    assert r["listed"] == {
        "name": "m_add", "description": "Add two integers.",
        "parameters": {"type": "object", "title": "addArguments", "required": ["a", "b"],
                       "properties": {"a": {"title": "A", "type": "integer"}, "b": {"title": "B", "type": "integer"}}},
    }


@pytest.mark.parametrize("isolation", ["inline", "process"])
@pytest.mark.parametrize("lang", LANGS)
def test_a_stdio_servers_tools_are_listed_and_called_like_any_tool(isolated, lang, isolation, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-for-the-server")  # the host's secrets stay with the host
    server = stdio("local", prefix="m", env={"GREETING": "hello"})
    r = run(isolated, lang, USE[lang], {"server": server}, policy=grants(), isolation=isolation)
    _check_use(r, "local", "", ["GREETING"])


@pytest.mark.parametrize("isolation", ["inline", "process"])
@pytest.mark.parametrize("lang", LANGS)
def test_an_http_servers_tools_are_listed_and_called_like_any_tool(isolated, lang, isolation, http_server):
    server = {"url": http_server.url, "prefix": "m", "headers": {"X-Token": "t0ken"}}
    policy = Policy(allow_net=(f"127.0.0.1:{http_server.port}",))
    r = run(isolated, lang, USE[lang], {"server": server}, policy=policy, isolation=isolation)
    _check_use(r, "web", "t0ken", None)


# -- refusals -----------------------------------------------------------------------------------

#: Try to connect each of params.servers; [kind, message] of each.
CONNECT = {
    "lua": TRY["lua"] + """
local out = {}
for i, s in ipairs(params.servers) do out[i] = try(tools.mcp, s) end
return out
""",
    "js": TRY["js"] + """
const out = [];
for (const s of params.servers) out.push(await attempt(() => tools.mcp(s)));
return out;
""",
    "tengo": TRY["tengo"] + """
out := []
for s in params.servers { out = append(out, attempt(tools.mcp(s))) }
export out
""",
}


@pytest.fixture
def tricks(tmp_path: Path) -> dict[str, str]:
    """Programs a spell could name instead of the allowed one: a link named like it to another
    program, a script of its own, and a link to the allowed program itself."""
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    (bin_ / "python3").symlink_to("/bin/sh")
    (bin_ / "python").write_text("#!/bin/sh\necho pwned\n")
    (bin_ / "python").chmod(0o755)
    (bin_ / "same").symlink_to(PY)
    return {"link_elsewhere": str(bin_ / "python3"), "own_script": "bin/python",
            "dotdot": str(bin_ / ".." / "bin" / "python3"), "same": str(bin_ / "same")}


@pytest.mark.parametrize("lang", LANGS)
def test_a_stdio_server_needs_allow_run_for_exactly_that_program(isolated, lang, tricks):
    servers = [stdio(), {"command": "python3", "args": [str(SERVER), "stdio"]},
               {"command": tricks["link_elsewhere"]}, {"command": tricks["own_script"]},
               {"command": tricks["dotdot"]}]
    r = run(isolated, lang, CONNECT[lang], {"servers": servers}, policy=Policy(allow_read=(str(SERVER),)))
    assert r[0] == ["permission_denied", f'tools.mcp: running "{PY}" is not allowed; run with --allow-run={PY}']
    assert all(kind == "permission_denied" and "--allow-run=" in message for kind, message in r[1:]), r
    # Granting the program does not grant what is named like it, or a link to something else.
    r = run(isolated, lang, CONNECT[lang], {"servers": servers[1:]}, policy=grants())
    assert all(kind == "permission_denied" and "is not allowed; run with --allow-run=" in message
               for kind, message in r), r
    # A link to the allowed program runs that program (the one the policy resolved), not the link.
    r = run(isolated, lang, CONNECT[lang], {"servers": [{"command": tricks["same"], "args": [str(SERVER), "stdio"]}]},
            policy=grants())
    assert r == [["ok", TOOL_NAMES]]


@pytest.mark.parametrize("lang", LANGS)
def test_an_http_server_needs_allow_net_for_its_host_every_way_it_is_written(isolated, lang, http_server):
    port = http_server.port
    servers = [{"url": http_server.url}, {"url": f"http://0x7f000001:{port}/mcp"},
               {"url": f"http://2130706433:{port}/mcp"}, {"url": f"http://localhost:{port}/mcp"},
               {"url": f"http://user:secret@127.0.0.1:{port}/mcp"}]
    r = run(isolated, lang, CONNECT[lang], {"servers": servers}, policy=Policy(allow_net=("example.com",)))
    for kind, message in r[:4]:
        assert kind == "permission_denied" and "is not allowed; run with --allow-net=" in message, r
    assert r[0][1].endswith(f"--allow-net=127.0.0.1:{port}")
    assert r[4] == ["invalid_argument", "tools.mcp: URLs with a user name or password are not supported; send "
                    "credentials in a header"]
    # Granted, but denied; granted, with credentials in the URL.
    r = run(isolated, lang, CONNECT[lang], {"servers": [servers[0], servers[4]]},
            policy=Policy(allow_net=True, deny_net=("127.0.0.1",)))
    assert r[0][0] == "permission_denied" and "--deny-net=127.0.0.1" in r[0][1]
    r = run(isolated, lang, CONNECT[lang], {"servers": [servers[4]]}, policy=Policy(allow_net=(f"127.0.0.1:{port}",)))
    assert r[0][0] == "invalid_argument"


def _loopback_name() -> str | None:
    """A name of this machine other than localhost that resolves to a loopback address, if any."""
    import ipaddress

    name = socket.gethostname()
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(name, None)}
    except OSError:
        return None
    return name if name != "localhost" and addresses and all(
        ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses) else None


@pytest.mark.skipif(_loopback_name() is None, reason="this machine's name does not resolve to a loopback address")
@pytest.mark.parametrize("lang", LANGS)
def test_a_granted_name_that_resolves_to_a_loopback_address_is_refused(isolated, lang, http_server):
    """The name is checked, then what DNS says it is: granting a name grants no internal address."""
    name, port = _loopback_name(), http_server.port
    r = run(isolated, lang, CONNECT[lang], {"servers": [{"url": f"http://{name}:{port}/mcp"}]},
            policy=Policy(allow_net=(f"{name}:{port}",)))
    [[kind, message]] = r
    assert kind == "permission_denied" and message.startswith(f'tools.mcp: network access to "{name}:{port}" is not '
                                                              "allowed: it resolves to 127.")
    assert "loopback" in message


@pytest.mark.parametrize("lang", LANGS)
def test_an_http_server_that_redirects_elsewhere_is_not_followed(isolated, lang, http_server):
    """The SDK follows a redirect only within the server's origin, and every request it makes is
    checked again by the sandbox: a redirect to another host or port reaches nothing there."""
    elsewhere = Redirector(f"http://localhost:{http_server.port}/mcp")
    try:
        policy = Policy(allow_net=(f"127.0.0.1:{elsewhere.port}", f"localhost:{http_server.port}"))
        r = run(isolated, lang, CONNECT[lang], {"servers": [{"url": elsewhere.url, "timeout": 30}]}, policy=policy)
    finally:
        elsewhere.close()
    [[kind, message]] = r
    assert kind == "tool_error" and message.startswith(f'tools.mcp: the MCP server "{elsewhere.url}": could not ')
    assert "not followed" in message
    assert elsewhere.hits  # asked once, and answered with the redirect nobody followed


@pytest.mark.parametrize("lang", LANGS)
def test_a_bad_server_table_is_an_invalid_argument_naming_the_key(isolated, lang):
    servers = [
        {}, {"command": PY, "url": "http://127.0.0.1/mcp"}, {"command": 5}, {"commnd": PY},
        {"url": "ftp://127.0.0.1/mcp"}, {"command": PY, "headers": {"X": "1"}}, {"url": "http://h/mcp", "args": ["a"]},
        {"command": PY, "prefix": "1x"}, {"command": PY, "env": {"A B": "1"}}, {"url": "http://h/", "timeout": -1},
        {"url": "http://h/", "headers": {"Host": "evil"}}, {"url": "http://h/", "headers": {"X": "a\r\nB: c"}},
        42, "nope",
    ]
    r = run(isolated, lang, CONNECT[lang], {"servers": servers}, policy=grants(allow_net=True))
    either = "give either command (a program to start, with args) or url (a streamable HTTP endpoint)"
    table = {"lua": "a table", "js": "an object", "tengo": "a map"}[lang]
    assert r == [
        ["invalid_argument", f"tools.mcp: server: {either}"],
        ["invalid_argument", f"tools.mcp: server: {either}, not both"],
        ["invalid_argument", "tools.mcp: server.command must be a string, not an integer"],
        ["invalid_argument", "tools.mcp: server.commnd is not a known option (known: command, args, env, url, "
                             "headers, prefix, timeout)"],
        ["invalid_argument", 'tools.mcp: server.url: must be an http(s) URL, e.g. "http://127.0.0.1:8000/mcp"'],
        ["invalid_argument", "tools.mcp: server.headers: are for a server at a url, not one started with command"],
        ["invalid_argument", "tools.mcp: server.args: is for a server started with command, not one at a url"],
        ["invalid_argument", "tools.mcp: server.prefix: must start with a letter and hold only letters, digits, _ "
                             "and - (at most 64)"],
        ["invalid_argument", "tools.mcp: server.env: 'A B' is not a variable name (letters, digits and _, not "
                             "first a digit)"],
        ["invalid_argument", "tools.mcp: server.timeout: must be a number of seconds > 0, e.g. timeout = 30"],
        ["invalid_argument", "tools.mcp: server.headers: 'Host' is not a header a server may be sent"],
        ["invalid_argument", "tools.mcp: server.headers: the value of X may not contain a line break"],
        ["invalid_argument", f"tools.mcp: server must be a string or {table}, not an integer"],
        ["not_found", "tools.mcp: there is no MCP server named 'nope' in the configuration (configured: none)"],
    ]


@pytest.mark.parametrize("lang", LANGS)
def test_a_servers_tool_may_not_take_a_name_the_run_already_has(isolated, lang):
    servers = [stdio("a"), stdio("b"), stdio("b", prefix="b")]
    r = run(isolated, lang, CONNECT[lang], {"servers": servers}, policy=grants())
    assert r[0] == ["ok", TOOL_NAMES]
    kind, message = r[1]
    assert kind == "invalid_argument" and "offers a tool named 'add', and the run already has one" in message
    assert r[2] == ["ok", [f"b_{n}" for n in TOOL_NAMES]]


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_calls_made_at_once_share_one_connection_and_each_gets_its_own_answer(isolated, transport, http_server):
    """JavaScript's Promise.all: twenty calls in flight on one session, and a failing one among others."""
    src = """
await tools.mcp(params.server);
const sums = await Promise.all(Array.from({length: 20}, (_, i) => tools.m_add(i, 100)));
const mixed = await Promise.allSettled([tools.m_add(1, 2), tools.m_fail("no"), tools.m_echo("x")]);
return [sums, mixed.map((r) => r.status === "fulfilled" ? r.value : r.reason.kind)];
"""
    server = stdio("local", prefix="m") if transport == "stdio" else {"url": http_server.url, "prefix": "m"}
    r = run(isolated, "js", src, {"server": server}, policy=grants(allow_net=(f"127.0.0.1:{http_server.port}",)))
    name = "local" if transport == "stdio" else "web"
    assert r == [[i + 100 for i in range(20)], [3, "tool_error", f"{name}: x"]]


@pytest.mark.parametrize("lang", LANGS)
def test_a_server_that_offers_too_many_tools_is_refused_whole(isolated, lang):
    r = run(isolated, lang, CONNECT[lang], {"servers": [stdio("many", env={"MANY_TOOLS": "1000"})]}, policy=grants())
    assert r == [["tool_error", 'tools.mcp: the MCP server "python mcp_server.py stdio many": it offers 1013 tools, '
                                "more than the 1000 a server may"]]


# -- failures of the server -----------------------------------------------------------------------

FAILURES = {
    "lua": TRY["lua"] + """
tools.mcp(params.server)
return {
  big = try(function() return #tools.m_blob(1000000) end),
  too_big = try(tools.m_blob, 11 * 1024 * 1024),
  after = try(tools.m_add, 1, 2),
}
""",
    "js": TRY["js"] + """
await tools.mcp(params.server);
return {
  big: await attempt(async () => (await tools.m_blob(1000000)).length),
  too_big: await attempt(() => tools.m_blob(11 * 1024 * 1024)),
  after: await attempt(() => tools.m_add(1, 2)),
};
""",
    "tengo": TRY["tengo"] + """
tools.mcp(params.server)
big := tools.m_blob(1000000)
export {
  big: is_error(big) ? attempt(big) : ["ok", len(big)],
  too_big: attempt(tools.m_blob(11 * 1024 * 1024)),
  after: attempt(tools.m_add(1, 2)),
}
""",
}

CRASH = {
    "lua": TRY["lua"] + """
tools.mcp(params.server)
return {crash = try(tools.m_crash), after = try(tools.m_add, 1, 2)}
""",
    "js": TRY["js"] + """
await tools.mcp(params.server);
return {crash: await attempt(() => tools.m_crash()), after: await attempt(() => tools.m_add(1, 2))};
""",
    "tengo": TRY["tengo"] + """
tools.mcp(params.server)
export {crash: attempt(tools.m_crash()), after: attempt(tools.m_add(1, 2))}
""",
}


@pytest.mark.parametrize("isolation", ["inline", "process"])
@pytest.mark.parametrize("lang", LANGS)
def test_a_result_over_the_limit_ends_the_connection_with_a_clear_error(isolated, lang, isolation, http_server):
    policy = grants(allow_net=(f"127.0.0.1:{http_server.port}",))
    for server, label, what in ((stdio("local", prefix="m"), "python mcp_server.py stdio local", "message"),
                                ({"url": http_server.url, "prefix": "m"}, http_server.url, "response")):
        r = run(isolated, lang, FAILURES[lang], {"server": server}, policy=policy, isolation=isolation)
        assert r["big"] == ["ok", 1_000_000]
        limit = f'the MCP server "{label}": it sent a {what} larger than 10485760 bytes (the limit); the ' \
                "connection is closed"
        assert r["too_big"] == ["tool_error", f"m_blob: {limit}"]
        assert r["after"] == ["tool_error", f"m_add: {limit}"]


@pytest.mark.parametrize("isolation", ["inline", "process"])
@pytest.mark.parametrize("lang", LANGS)
def test_a_stdio_server_that_dies_mid_call_is_a_tool_error_saying_so(isolated, lang, isolation):
    r = run(isolated, lang, CRASH[lang], {"server": stdio("local", prefix="m")}, policy=grants(),
            isolation=isolation)
    gone = 'the MCP server "python mcp_server.py stdio local": it exited with code 3 before it could answer the call of'
    assert r == {"crash": ["tool_error", f"m_crash: {gone} crash"], "after": ["tool_error", f"m_add: {gone} add"]}


@pytest.mark.parametrize("lang", LANGS)
def test_an_http_server_that_dies_mid_call_is_a_tool_error(isolated, lang):
    server = HttpServer("doomed")
    try:
        r = run(isolated, lang, CRASH[lang], {"server": {"url": server.url, "prefix": "m", "timeout": 30}},
                policy=Policy(allow_net=(f"127.0.0.1:{server.port}",)))
    finally:
        server.close()
    for key, tool in (("crash", "m_crash"), ("after", "m_add")):
        kind, message = r[key]
        assert kind == "tool_error" and message.startswith(f'{tool}: the MCP server "{server.url}": could not '), r


def test_a_call_the_server_never_answers_ends_at_the_servers_timeout(isolated):
    src = TRY["lua"] + "tools.mcp(params.server)\nreturn {try(tools.m_stall), try(tools.m_add, 1, 2)}"
    r = run(isolated, "lua", src, {"server": stdio("local", prefix="m", timeout=10)}, policy=grants())
    assert r == [["tool_error", 'm_stall: the MCP server "python mcp_server.py stdio local" did not answer the call '
                                "of stall within 10s"], ["ok", 3]]


STALL = {
    "lua": 'tools.mcp(params.server)\nprint(tools.m_pid())\ntools.m_stall()\n',
    "js": 'await tools.mcp(params.server);\nconsole.log(await tools.m_pid());\nawait tools.m_stall();\n',
    "tengo": 'fmt := import("fmt")\ntools.mcp(params.server)\nfmt.println(tools.m_pid())\ntools.m_stall()\n',
}


@pytest.mark.parametrize("lang", LANGS)
def test_a_stalled_server_ends_with_the_runs_time_limit_and_is_killed(isolated, lang):
    isolated.write(f"stall.{EXT[lang]}", STALL[lang])
    server = stdio("local", prefix="m")
    p = isolated.cli("run", f"stall.{EXT[lang]}", f"--allow-run={PY}", f"--allow-read={SERVER}", "--timeout", "20",
                     "--param", "server=" + json.dumps(server), timeout=60)
    assert p.returncode != 0
    assert "timeout" in p.stderr and "time limit of 20s" in p.stderr, p.stderr
    isolated.no_traceback(p.stdout, p.stderr)
    pid = int(p.stdout.split()[0])
    assert not alive(pid)


END = {
    "lua": 'tools.mcp(params.server)\nreturn tools.m_pid()',
    "js": 'await tools.mcp(params.server);\nreturn await tools.m_pid();',
    "tengo": 'tools.mcp(params.server)\nexport tools.m_pid()',
}


@pytest.mark.parametrize("isolation", ["inline", "process"])
@pytest.mark.parametrize("lang", LANGS)
def test_a_stdio_server_ends_with_the_run(isolated, lang, isolation):
    pid = run(isolated, lang, END[lang], {"server": stdio("local", prefix="m")}, policy=grants(), isolation=isolation)
    assert isinstance(pid, int) and pid != os.getpid()
    assert not alive(pid)


@pytest.mark.skipif(not kernel.support().landlock_abi, reason="no Landlock on this machine")
@pytest.mark.parametrize("lang", LANGS)
def test_a_stdio_server_runs_under_the_workers_confinement(isolated, lang, tmp_path):
    """Started from the spell's worker, the server is confined as the worker is: granting the program
    grants it no file the spell may not read."""
    (tmp_path / "shared.txt").write_text("shared")
    (tmp_path / "secret.txt").write_text("secret")
    src = {"lua": TRY["lua"] + "tools.mcp(params.server)\n"
                               "return {try(tools.m_read, params.shared), try(tools.m_read, params.secret)}",
           "js": TRY["js"] + "await tools.mcp(params.server);\n"
                             "return [await attempt(() => tools.m_read(params.shared)), "
                             "await attempt(() => tools.m_read(params.secret))];",
           "tengo": TRY["tengo"] + "tools.mcp(params.server)\n"
                                   "export [attempt(tools.m_read(params.shared)), "
                                   "attempt(tools.m_read(params.secret))]"}
    params = {"server": stdio("local", prefix="m"), "shared": str(tmp_path / "shared.txt"),
              "secret": str(tmp_path / "secret.txt")}
    r = run(isolated, lang, src[lang], params, policy=grants(params["shared"]), isolation="process")
    assert r == [["ok", "shared"], ["tool_error", "m_read: Error executing tool read: Permission denied"]]


SHOUT = {
    "lua": 'tools.mcp(params.server)\nprint(tools.m_shout(params.text))',
    "js": 'await tools.mcp(params.server);\nconsole.log(await tools.m_shout(params.text));',
    "tengo": 'fmt := import("fmt")\ntools.mcp(params.server)\nfmt.println(tools.m_shout(params.text))',
}


@pytest.mark.parametrize("lang", LANGS)
def test_what_a_server_logs_never_reaches_the_users_terminal(isolated, lang):
    """A server's log notification (and whatever else the MCP libraries log) is the server's text:
    it goes to llmspell's debug log, escaped, one line; never to stderr as the server wrote it."""
    isolated.write(f"shout.{EXT[lang]}", SHOUT[lang])
    text = "\x1b]0;PWNED\x07\x1b[2J\nERROR a line of llmspell's own"
    args = ["run", f"shout.{EXT[lang]}", f"--allow-run={PY}", f"--allow-read={SERVER}",
            "--param", "server=" + json.dumps(stdio("local", prefix="m")), "--param", "text=" + json.dumps(text)]
    p = isolated.cli(*args)
    assert p.returncode == 0 and p.stdout == "ok\n", p.stderr
    assert "PWNED" not in p.stderr and "\x1b" not in p.stderr and "a line of llmspell's own" not in p.stderr
    p = isolated.cli(*args, env={"LLMSPELL_DEBUG": "1"})
    assert "Received ERROR from server: \\x1b]0;PWNED\\x07\\x1b[2J\\nERROR a line of llmspell's own" in p.stderr
    assert "\x1b" not in p.stderr


FAILS_AFTER = {
    "lua": 'tools.mcp(params.server)\nprint(tools.m_pid())\nerror("the spell fails")',
    "js": 'await tools.mcp(params.server);\nconsole.log(await tools.m_pid());\nthrow new Error("the spell fails");',
    "tengo": 'fmt := import("fmt")\ntools.mcp(params.server)\nfmt.println(tools.m_pid())\nx := 1 / 0',
}


@pytest.mark.parametrize("isolation", ["inline", "process"])
@pytest.mark.parametrize("lang", LANGS)
def test_a_stdio_server_ends_with_a_run_that_fails(isolated, lang, isolation):
    rt, out = isolated.runtime(policy=grants(), isolation=isolation)
    with pytest.raises(SpellError):
        rt.run(source=FAILS_AFTER[lang], language=LANGS[lang], filename=f"spell.{EXT[lang]}",
               params={"server": stdio("local", prefix="m")})
    pid = int("".join(out).split()[0])
    assert not alive(pid)


# -- configured servers, the CLI, agents ----------------------------------------------------------

CONFIGURED = {
    "lua": TRY["lua"] + 'local names = tools.mcp("calc")\n'
                        'return {names, tools.calc_add(20, 22), try(tools.mcp, "other")}',
    "js": TRY["js"] + 'const names = await tools.mcp("calc");\n'
                      'return [names, await tools.calc_add(20, 22), await attempt(() => tools.mcp("other"))];',
    "tengo": TRY["tengo"] + 'names := tools.mcp("calc")\n'
                            'export [names, tools.calc_add(20, 22), attempt(tools.mcp("other"))]',
}


@pytest.mark.parametrize("lang", LANGS)
def test_a_server_named_in_llmspell_toml_is_connected_by_name_through_the_cli(isolated, lang):
    isolated.config(f'[mcp.servers.calc]\ncommand = "{PY}"\nargs = ["{SERVER}", "stdio", "calc"]\nprefix = "calc"\n'
                    f'[mcp.servers.web]\nurl = "http://127.0.0.1:9/mcp"\n')
    isolated.write(f"spell.{EXT[lang]}", CONFIGURED[lang])
    p = isolated.cli("run", f"spell.{EXT[lang]}", "--json", f"--allow-run={PY}", f"--allow-read={SERVER}")
    assert p.returncode == 0, p.stderr
    result = json.loads(p.stdout)
    assert result[0] == [f"calc_{n}" for n in TOOL_NAMES] and result[1] == 42
    assert result[2] == ["not_found", "tools.mcp: there is no MCP server named 'other' in the configuration "
                                      "(configured: calc, web)"]
    # Without the grant, the CLI says what to add, and nothing of the host leaks into the report.
    isolated.write(f"bare.{EXT[lang]}", {"lua": 'return tools.mcp("calc")', "js": 'return await tools.mcp("calc");',
                                         "tengo": 'export tools.mcp("calc")'}[lang])
    p = isolated.cli("run", f"bare.{EXT[lang]}", f"--allow-read={SERVER}")
    assert f'permission_denied: tools.mcp: running "{PY}" is not allowed; run with --allow-run={PY}' \
        in p.stdout + p.stderr, p.stderr
    assert p.returncode != 0 or lang == "tengo"  # a Tengo call's error is a value the spell exported
    isolated.no_traceback(p.stdout, p.stderr)


@pytest.mark.parametrize(("toml", "error"), [
    ('[mcp.servers.x]\ncommand = 5\n', "llmspell.toml:2: command must be a non-empty string in quotes"),
    ('[mcp.servers.x]\ncommand = "a"\nurl = "http://h/"\n', "llmspell.toml:1: [mcp.servers.x]: give either "
     "command (a program to start, with args) or url (a streamable HTTP endpoint), not both"),
    ('[mcp.servers.x]\nurl = "http://h/"\nprefix = "no spaces"\n', "llmspell.toml:3: [mcp.servers.x] prefix: must "
     "start with a letter and hold only letters, digits, _ and - (at most 64)"),
    ('[mcp.servers.x]\ncommand = "a"\nargs = "b"\n', 'llmspell.toml:3: args must be a list of strings, e.g. '
     'args = ["server.py"]'),
    ('[mcp.servers.x]\ncommand = "a"\ncwd = "b"\n', "llmspell.toml:3: unknown key 'cwd' in [mcp.servers.x]; "
     "allowed: args, command, env, headers, prefix, timeout, url"),
    ('[mcp]\nserver = 1\n', "llmspell.toml:2: unknown key 'server' in [mcp]; servers go in [mcp.servers.NAME]"),
])
def test_a_bad_mcp_table_in_llmspell_toml_is_reported_at_its_line(isolated, toml, error):
    isolated.config(toml)
    isolated.write("spell.lua", "return 1")
    p = isolated.cli("run", "spell.lua")
    assert p.returncode != 0 and f"invalid_argument: {error}" in p.stderr, p.stderr


AGENT = {
    "lua": 'tools.mcp(params.server)\nreturn llm.agent({model = "scripted", tools = {"m_add"}}):run("add")',
    "js": 'await tools.mcp(params.server);\n'
          'return await (await llm.agent({model: "scripted", tools: ["m_add"]})).run("add");',
    "tengo": 'tools.mcp(params.server)\nexport llm.agent({model: "scripted", tools: ["m_add"]}).run("add")',
}


@pytest.mark.parametrize("lang", LANGS)
def test_an_agent_is_given_a_servers_tool_by_name(isolated, lang):
    from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart, ToolReturnPart
    from pydantic_ai.models.function import FunctionModel

    offered: list[Any] = []

    def model(messages: list, info: Any) -> ModelResponse:
        offered.append([(t.name, t.parameters_json_schema.get("required")) for t in info.function_tools])
        returned = [p for m in messages for p in getattr(m, "parts", []) if isinstance(p, ToolReturnPart)]
        if returned:
            return ModelResponse(parts=[TextPart(f"the sum is {returned[-1].content}")])
        return ModelResponse(parts=[ToolCallPart("m_add", {"a": 20, "b": 22})])

    r = run(isolated, lang, AGENT[lang], {"server": stdio("local", prefix="m")}, policy=grants(),
            models={"scripted": FunctionModel(model)})
    assert r == "the sum is 42"
    assert offered[0] == [("m_add", ["a", "b"])]


# -- the examples --------------------------------------------------------------------------------

@pytest.mark.parametrize("example", ["lua/mcp_tools.lua", "js/mcp_tools.js", "tengo/mcp_tools.tengo"])
def test_the_mcp_example_runs(isolated, example):
    p = isolated.cli("run", str(REPO / "examples" / example), f"--allow-run={PY}",
                     f"--allow-read={REPO / 'examples' / 'mcp_server.py'}", "--param", f"python={PY}")
    assert p.returncode == 0, p.stderr
    assert "reversed: lleps" in p.stdout and "words: 3" in p.stdout, p.stdout


def test_a_spell_cannot_reach_mcp_when_tools_are_disabled(isolated):
    with pytest.raises(SpellError) as info:
        run(isolated, "lua", "return tools.mcp(params.server)", {"server": stdio()},
            policy=grants(disabled_builtins=("tools.mcp",)))
    assert info.value.kind == "permission_denied"

