"""Built-in tools: the registry, the I/O tools through the policy, and the pure ones."""

from __future__ import annotations

import asyncio
import json
import math
from urllib.parse import quote

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmspell.errors import SpellError
from llmspell.sandbox import Policy
from llmspell.tools import (
    TOOL_SPECS,
    ToolContext,
    ToolService,
    calculator,
    datetime,
    file_list,
    file_read,
    file_write,
    http_get,
    json_query,
    web_search,
)
from llmspell.tools.schema import listed_order, positional_order, to_json_schema


def run(coro):
    return asyncio.run(coro)


def call_tool(name, params, context):
    """One call of a tool through a run's tool service (what the ``tools`` bridge delegates to)."""
    return ToolService(context).call(name, params)


# -- registry ------------------------------------------------------------------

def test_registry_lists_every_built_in_tool_with_a_valid_schema():
    assert set(TOOL_SPECS) == {"file_read", "file_write", "file_list", "http_get", "web_search", "calculator",
                               "datetime", "json_query"}
    for name, spec in TOOL_SPECS.items():
        jsonschema.Draft202012Validator.check_schema(spec.parameters)
        assert spec.describe()["name"] == name and spec.description
    assert TOOL_SPECS["file_write"].positional == ["path", "content"]
    assert TOOL_SPECS["json_query"].positional == ["data", "path"]
    assert TOOL_SPECS["web_search"].positional == ["query", "max_results"]


def test_positional_binding_and_validation():
    tools = ToolService(ToolContext())
    assert tools.bind("file_write", ["out.md", "text"]) == {"path": "out.md", "content": "text"}
    assert tools.bind("file_write", [{"path": "out.md"}]) == {"path": "out.md"}
    with pytest.raises(SpellError) as excinfo:
        tools.bind("file_write", ["a", "b", "c"])
    assert excinfo.value.message == "tools.file_write: takes at most 2 argument(s) (path, content), got 3"
    with pytest.raises(SpellError) as excinfo:
        run(call_tool("file_write", {"path": "x"}, ToolContext()))
    assert excinfo.value.kind == "invalid_argument" and "content" in excinfo.value.message
    with pytest.raises(SpellError) as excinfo:
        run(call_tool("calculator", {"expression": "1", "extra": 2}, ToolContext()))
    assert excinfo.value.kind == "invalid_argument"
    with pytest.raises(SpellError) as excinfo:
        run(call_tool("no_such_tool", {}, ToolContext()))
    assert excinfo.value.kind == "not_found"


def test_call_tool_passes_the_host_context(tmp_path):
    context = ToolContext(policy=Policy(allow_read=(str(tmp_path),), allow_write=(str(tmp_path),)), base=tmp_path)
    assert run(call_tool("file_write", {"path": "notes/a.md", "content": "# hi"}, context)) == {
        "path": str(tmp_path / "notes" / "a.md"), "bytes": 4}
    assert run(call_tool("file_read", {"path": "notes/a.md"}, context)) == "# hi"
    assert run(call_tool("file_list", {}, context)) == [{"name": "notes", "type": "dir"}]
    assert run(call_tool("calculator", {"expression": "6*7"}, context)) == 42


# -- file tools -------------------------------------------------------------------

def test_file_tools_go_through_the_policy(layout):
    with pytest.raises(SpellError) as excinfo:
        run(file_read(Policy(), "file.txt", base=layout.allowed))
    assert excinfo.value.kind == "permission_denied"
    with pytest.raises(SpellError) as excinfo:
        run(file_write(Policy(allow_read=True), "x.txt", "x", base=layout.allowed))
    assert excinfo.value.kind == "permission_denied"
    with pytest.raises(SpellError) as excinfo:
        run(file_list(Policy(), ".", base=layout.allowed))
    assert excinfo.value.kind == "permission_denied"
    policy = Policy(allow_read=(str(layout.allowed),))
    with pytest.raises(SpellError) as excinfo:
        run(file_read(policy, "../outside/secret.txt", base=layout.allowed))
    assert excinfo.value.kind == "permission_denied"


def test_file_read_text_only(layout):
    (layout.allowed / "blob.bin").write_bytes(b"\xff\xfe\x00")
    policy = Policy(allow_read=(str(layout.allowed),))
    with pytest.raises(SpellError) as excinfo:
        run(file_read(policy, "blob.bin", base=layout.allowed))
    assert excinfo.value.kind == "invalid_argument"
    (layout.allowed / "utf8.txt").write_text("héllo ✓", encoding="utf-8")
    assert run(file_read(policy, "utf8.txt", base=layout.allowed)) == "héllo ✓"


def test_file_write_counts_bytes_and_rejects_non_text(layout):
    policy = Policy(allow_write=(str(layout.allowed),))
    assert run(file_write(policy, "u.txt", "é", base=layout.allowed))["bytes"] == 2
    with pytest.raises(SpellError):
        run(file_write(policy, "u.txt", 5, base=layout.allowed))  # type: ignore[arg-type]


# -- network tools -------------------------------------------------------------------

def test_http_get(server):
    policy = Policy(allow_net=(f"127.0.0.1:{server.port}",))
    result = run(http_get(policy, server.url("/page")))
    assert result["status"] == 200 and result["body"] == "hello from /page"
    assert result["headers"]["content-type"] == "text/plain"
    with pytest.raises(SpellError) as excinfo:
        run(http_get(Policy(), server.url("/page")))
    assert excinfo.value.kind == "permission_denied"


def test_web_search_is_unconfigured_by_default():
    with pytest.raises(SpellError) as excinfo:
        run(call_tool("web_search", {"query": "llm"}, ToolContext(policy=Policy(allow_net=True))))
    assert excinfo.value.kind == "tool_error"
    assert "not configured" in excinfo.value.message and excinfo.value.hint


def test_web_search_against_a_configured_endpoint(server):
    payload = json.dumps({"results": [
        {"title": "One", "url": "https://one.example", "content": "first"},
        {"title": "Bad"},
        {"title": "Two", "url": "https://two.example", "content": "second"},
        {"title": "Three", "url": "https://three.example", "content": "third"},
    ]})
    endpoint = server.url("/json?body=" + quote(payload))
    policy = Policy(allow_net=(f"127.0.0.1:{server.port}",))
    context = ToolContext(policy=policy, search_endpoint=endpoint)
    results = run(call_tool("web_search", {"query": "llm spells", "max_results": 2}, context))
    assert results == [{"title": "One", "url": "https://one.example", "snippet": "first"},
                       {"title": "Two", "url": "https://two.example", "snippet": "second"}]
    with pytest.raises(SpellError) as excinfo:
        run(web_search(Policy(), "llm", endpoint=endpoint))
    assert excinfo.value.kind == "permission_denied"


def test_web_search_rejects_non_json_answers(server):
    policy = Policy(allow_net=(f"127.0.0.1:{server.port}",))
    with pytest.raises(SpellError) as excinfo:
        run(web_search(policy, "q", endpoint=server.url("/search")))
    assert excinfo.value.kind == "tool_error"


# -- calculator ---------------------------------------------------------------------

@pytest.mark.parametrize(("expression", "expected"), [
    ("1 + 2 * 3", 7), ("(1 + 2) * 3", 9), ("7 / 2", 3.5), ("7 // 2", 3), ("-7 % 3", 2), ("2 ** 10", 1024),
    ("-2 ** 2", -4), ("+3", 3), ("sqrt(16)", 4.0), ("max(1, 5, 3)", 5), ("round(2.567, 2)", 2.57),
    ("factorial(5)", 120), ("log(8, 2)", 3.0), ("2 ** 0.5 * 2 ** 0.5", pytest.approx(2.0)),
    ("pi", math.pi), ("1_000 + 1", 1001), ("2 ** 64", float(2**64)), ("10 ** 1000 // 10 ** 999", 10),
    ("2 ** 3 ** 2", 512), ("100 - 5 - 3", 92), ("2 * 3 + 4 * 5 - 6 / 3", 24.0),
    ("+".join(str(i) for i in range(1, 251)), 31375),  # a long run folds in a loop: no nesting limit
])
def test_calculator_values(expression, expected):
    assert calculator(expression) == expected


@pytest.mark.parametrize("expression", [
    "__import__('os')", "__import__('os').system('echo hi')", "open('/etc/passwd')", "(1).__class__",
    "[x for x in range(10)]", "lambda: 1", "x", "'a' * 3", "eval('1')", "1 if 1 else 2", "a.b", "1; 2",
    "9 ** 9 ** 9", "2 ** 100000", "10 ** 10000 * 10 ** 10000", "factorial(100000)", "1 / 0", "10.0 ** 400",
    "(-8) ** 0.5", "log(0)", "True + 1", "1 << 10000", "round(1, -1000000000)", "max()", "sqrt(1, 2)",
    "", "1 +", "(" * 500 + "1" + ")" * 500, "-" * 2000 + "1", "abs(x=1)",
])
def test_calculator_rejects_unsafe_or_bad_input_cleanly(expression):
    with pytest.raises(SpellError) as excinfo:
        calculator(expression)
    assert excinfo.value.kind == "invalid_argument"
    assert excinfo.value.message.startswith("calculator:")


ARITHMETIC = " is not allowed in an arithmetic expression (numbers, + - * / // % **, parentheses, and the " \
             "listed functions)"


@pytest.mark.parametrize(("expression", "message"), [
    ("9 ** 9 ** 9", "exponent 387420489 is too large (limit 10000)"),
    ("2 ** 100000", "exponent 100000 is too large (limit 10000)"),
    ("3 ** 9999 * 3 ** 9999 * 3 ** 9999 * 3 ** 9999 * 3 ** 9999", "a number in the calculation is too large"),
    ("factorial(171)", "factorial() is limited to n <= 170 (a larger one is beyond the largest number)"),
    ("factorial(10 ** 6)", "factorial() is limited to n <= 170 (a larger one is beyond the largest number)"),
    ("-" * 990 + "1", "the expression nests more than 100 levels deep"),
    ("-" * 101 + "1", "the expression nests more than 100 levels deep"),
    ("2**" * 150 + "1", "the expression nests more than 100 levels deep"),
    ("(" * 300 + "1" + ")" * 300, "cannot parse '" + "(" * 60 + "...': too many nested parentheses"),
    ("1" * 1001, "the expression is longer than 1000 characters"),
    ("10 ** 400", "the result is too large"),
    ("exp(1000)", "the result is too large"),
    ("1e400", "the result is not a finite number"),
    ("(1).__class__", "attribute access (x.y)" + ARITHMETIC),
    ("1 << 100000", "the operator <<" + ARITHMETIC),
    ("[1][0]", "indexing (x[i])" + ARITHMETIC),
    ("[x for x in (1, 2)]", "a comprehension" + ARITHMETIC),
    ("1 < 2", "a comparison" + ARITHMETIC),
    ("__import__('os')", "__import__ cannot be called; functions: abs, acos, asin, atan, atan2, ceil, cos, "
                         "degrees, exp, factorial, floor, hypot, log, log10, log2, max, min, radians, round, "
                         "sin, sqrt, tan"),
])
def test_calculator_bounds_hostile_expressions_with_a_clear_message(expression, message):
    """A model writes the expression: huge powers, deep nesting and big factorials fail fast, in words."""
    with pytest.raises(SpellError) as excinfo:
        calculator(expression)
    assert (excinfo.value.kind, excinfo.value.message) == ("invalid_argument", f"calculator: {message}")


def test_calculator_gives_the_largest_factorial_a_number_holds():
    assert calculator("factorial(170)") == float(math.factorial(170))


# -- datetime / json_query ------------------------------------------------------------

def test_datetime():
    now = datetime()
    assert set(now) == {"iso", "unix", "timezone", "utc_offset"}
    assert isinstance(now["unix"], int)
    utc = datetime("UTC")
    assert utc["utc_offset"] == "+00:00" and utc["iso"].endswith("+00:00")
    with pytest.raises(SpellError) as excinfo:
        datetime("Mars/Olympus_Mons")
    assert excinfo.value.kind == "invalid_argument"


DOC = {"a": {"b": [{"c": 1}, {"c": 2, "d.e": "dotted"}]}, "list": [10, 20, 30]}


@pytest.mark.parametrize(("path", "expected"), [
    ("a.b[0].c", 1), ("a.b[1].c", 2), ("list[-1]", 30), ('a.b[1]."d.e"', "dotted"), ("@", DOC),
    ("a.missing", None), ("list[9]", None), ("list.x", None), ("a.b[0].c.d", None), ("a.b[*].c", [1, 2]),
    ("list[?@ > `15`]", [20, 30]), ("length(list)", 3), ("sum(list)", 60), ("list[1:]", [20, 30]),
    ("sort_by(a.b, &c)[-1].c", 2), ("{first: list[0], n: length(list)}", {"first": 10, "n": 3}),
    ("to_string(a.b[0])", '{"c":1}'), ("to_string(`[4.0, 1e-7]`)", "[4,1e-7]"),
])
def test_json_query_is_jmespath(path, expected):
    assert json_query(DOC, path) == expected


def test_json_query_reads_a_json_string_as_json_reads_it():
    assert json_query('{"x": [1, {"y": true}]}', "x[1].y") is True
    assert json_query('{"x": [1, null, 3]}', "x") == [1, None, 3]  # None, not the json.null placeholder
    assert json_query('{"x": [1, null, 3]}', "length(x[?@ != null])") == 2
    assert json_query('"\\ud800"', "@") == "\ufffd"
    for text, message in (("not json", "json_query: data is a string but not JSON: Expecting value at line 1 column 1"),
                          ("[NaN]", "json_query: data is a string but not JSON: NaN is not JSON at line 1 column 2")):
        with pytest.raises(SpellError) as excinfo:
            json_query(text, "x")
        assert (excinfo.value.kind, excinfo.value.message) == ("invalid_argument", message)


@pytest.mark.parametrize(("path", "message"), [
    ("a..b", 'invalid expression "a..b" at column 3: expected a quoted name ("..."), a name, \'[\' or \'{\', '
             "not '.'"),
    ("a.", 'invalid expression "a." at column 3: expected a quoted name ("..."), a name, \'[\' or \'{\', '
           "not the end"),
    ("a[0", 'invalid expression "a[0": it ends too soon, at column 4'),
    ("a[x]", 'invalid expression "a[x]" at column 3: expected \'*\', not a name'),
    ("a['b", 'invalid expression "a[\'b" at column 3: unclosed \' delimiter'),
    ("a # b", 'invalid expression "a # b" at column 3: unknown character #'),
    (".a", 'invalid expression ".a" at column 1: unexpected \'.\''),
    ("", "the expression is empty (@ is the whole data)"),
    ("  ", "the expression is empty (@ is the whole data)"),
    ("length(@, @)", "length() takes 1 argument, not 2"),
    ("not_null()", "not_null() takes at least 1 argument, not 0"),
    ("sum(a)", "sum() takes an array of numbers, not an object"),
    ("sum(a.b)", "sum() takes an array of numbers, not an object"),
    ("join(',', list)", "join() takes an array of strings, not a number"),
    ("nope(@)", "unknown function nope() (functions: abs, avg, ceil, contains, ends_with, floor, join, keys, "
                "length, map, max, max_by, merge, min, min_by, not_null, reverse, sort, sort_by, starts_with, "
                "sum, to_array, to_number, to_string, type, values)"),
    ("&a", "the result is an &expression, not data (& belongs inside a function such as sort_by)"),
    ("'x' < `1`", "the expression cannot be applied to this data (values of different types compared, "
                  "or a slice step of 0?)"),
    ("(" * 4000 + "a" + ")" * 4000, "the expression nests too deeply"),
    ("a" * 10_001, "the expression is longer than 10000 characters"),
])
def test_json_query_refuses_a_bad_expression_in_one_line_naming_where(path, message):
    with pytest.raises(SpellError) as excinfo:
        json_query(DOC, path)
    assert (excinfo.value.kind, excinfo.value.message) == ("invalid_argument", f"json_query: {message}")
    assert "\n" not in excinfo.value.message and "Traceback" not in excinfo.value.message


DOUBLING = "@" + " | [@, @]" * 40


@pytest.mark.parametrize("path", [DOUBLING, DOUBLING + " | to_string(@)", DOUBLING + " | length(to_string(@))",
                                  DOUBLING + "[][][][][][][][][][][][][][][][][][][][][][][][][][][][][][]",
                                  "[" + ", ".join(["@"] * 2000) + "][][]",
                                  "text" + " | join('', [@, @])" * 40])
def test_json_query_bounds_an_expression_that_multiplies_its_data(path):
    """2**40 references to the data, written out or flattened, would never end: the work is counted."""
    with pytest.raises(SpellError) as excinfo:
        json_query({"list": list(range(1000)), "text": "x" * 1000}, path)
    assert excinfo.value.message.startswith("json_query: the query does too much work (over 2,000,000 steps")


def test_json_query_handles_realistic_sizes():
    rows = [{"id": i, "name": f"row {i}", "tags": ["a", "b"] if i % 2 else []} for i in range(100_000)]
    assert json_query({"rows": rows}, "length(rows[?length(tags) > `0`])") == 50_000
    assert json_query({"rows": rows}, "rows[-1].name") == "row 99999"
    assert len(json_query({"rows": rows}, "rows[*].id")) == 100_000
    assert json_query({"rows": rows}, "rows") is rows  # handing on the data is not work
    assert json_query({"rows": rows}, "max_by(rows, &id).name") == "row 99999"


@pytest.mark.parametrize("lang, call", [("lua", "return tools.web_search('llm spells')"),
                                        ("javascript", "return await tools.web_search('llm spells')"),
                                        ("tengo", 'export tools.web_search("llm spells")')])
def test_web_search_endpoint_comes_from_llmspell_toml(isolated, server, lang, call):
    """The operator names the search service in llmspell.toml; the spell only asks."""
    from llmspell import Policy, Runtime

    payload = json.dumps({"results": [{"title": "One", "url": "https://one.example", "content": "first"}]})
    isolated.write("llmspell.toml", f'[tools.web_search]\nendpoint = "{server.url("/json?body=" + quote(payload))}"\n')
    rt = Runtime(cwd=isolated.cwd, policy=Policy(allow_net=(f"127.0.0.1:{server.port}",)), output=lambda _: None)
    assert rt.run(source=call, language=lang) == [{"title": "One", "url": "https://one.example", "snippet": "first"}]


# -- positional order -----------------------------------------------------------------------------

_NAMES = st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8), min_size=1, max_size=8,
                  unique=True)


@settings(max_examples=200, deadline=None)
@given(names=_NAMES, data=st.data())
def test_positional_order_never_depends_on_the_order_of_a_map(names, data):
    """The same parameters, given as a map in any order, bind the same way: the required ones first
    (in the order the schema's required list gives them), then the rest by name."""
    required = data.draw(st.lists(st.sampled_from(names), unique=True))
    shuffled = data.draw(st.permutations(names))
    short = {name: {"type": "string", "required": name in required} for name in shuffled}
    schema = to_json_schema(short, "tools.register")
    expected = sorted(required) + sorted(n for n in names if n not in required)  # a map's required: by name
    assert positional_order(schema) == expected
    full = {"type": "object", "properties": {n: {"type": "string"} for n in shuffled}, "required": required}
    assert positional_order(to_json_schema(full, "tools.register")) == required + sorted(
        n for n in names if n not in required)
    listed = [{"name": n, "type": "string"} for n in shuffled]
    assert positional_order(to_json_schema(listed, "tools.register"), listed_order(listed)) == list(shuffled)
