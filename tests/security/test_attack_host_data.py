"""Host data is data, whatever its keys: it never takes over a spell's objects.

A red team found two ways data from outside (a tool's result, ``params``,
``json.decode``, a spell's own table) was read as something else:

* JavaScript: a ``"__proto__"`` key became the object's prototype
  (``{"own_keys": [], "admin": true}``), so a tool result could plant
  properties every lookup on it would find; in ``params`` it was dropped.
  It must stay an own property, in every way data enters or leaves the VM.
* Lua: a table with an integer ``__handle`` field was taken for a host handle
  (a registered tool), so plain data passed to the host became a tool.
  Handles are known by their table's identity, which a spell cannot forge.
"""

from __future__ import annotations

import json

import pytest
from tests.security.conftest import expect_error

PROTO = '{"__proto__": {"admin": true}, "name": "x"}'


def _show(obj: str) -> str:
    """JavaScript that prints what ``obj`` is: own keys, an inherited admin, its prototype, its JSON."""
    return (f"const o = {obj};\n"
            "console.log(JSON.stringify([Object.keys(o), o.admin === true && !Object.hasOwn(o, 'admin'),\n"
            "  Object.getPrototypeOf(o) === Object.prototype, json.encode(o)]));\n")


OWN = json.dumps([["__proto__", "name"], False, True, '{"__proto__":{"admin":true},"name":"x"}'],
                 separators=(",", ":"))


@pytest.mark.parametrize("source", [
    f"json.decode({json.dumps(PROTO)})",
    f"await tools.json_query({{data: {json.dumps(json.dumps({'v': json.loads(PROTO)}))}, path: 'v'}})",
    f"(await tools.calculator({{expression: '1'}}), JSON.parse({json.dumps(PROTO)}))",
], ids=["json.decode", "tool result", "JSON.parse then json.encode"])
def test_js_proto_key_from_the_host_is_an_own_property(spell, source: str) -> None:
    result = spell("js", _show(source))
    assert result.code == 0, result.err
    assert result.out.strip() == OWN


def test_js_proto_key_in_params_is_an_own_property(spell) -> None:
    result = spell("js", _show("params.p"), "--param", f"p={PROTO}")
    assert result.code == 0, result.err
    assert result.out.strip() == OWN


def test_js_proto_key_at_the_top_of_params_is_kept(spell) -> None:
    result = spell("js", "console.log(JSON.stringify([Object.keys(params), params.admin === undefined]))",
                   "--param", '__proto__={"admin": true}')
    assert result.code == 0, result.err
    assert result.out.strip() == '[["__proto__"],true]'


def test_js_proto_key_going_to_the_host_is_kept(spell) -> None:
    """A spell's own "__proto__" key reaches the host as a key (here: a tool's arguments, echoed)."""
    source = """
tools.register({name: "echo", description: "echo", parameters: {type: "object"}, handler: (a) => a});
const arg = {}; Object.defineProperty(arg, "__proto__", {value: {admin: true}, enumerable: true});
const back = await tools.echo(arg);
console.log(JSON.stringify([Object.keys(back), back.admin === undefined, Object.hasOwn(back, "__proto__")]));
"""
    result = spell("js", source)
    assert result.code == 0, result.err
    assert result.out.strip() == '[["__proto__"],true,true]'


def test_lua_table_with_a_handle_field_stays_a_table(spell) -> None:
    """Before: once a tool was registered, {__handle = 1} was that tool (json.encode refused it)."""
    source = """
local t = tools.register({name = "adder", description = "adds", parameters = {type = "object"},
                          handler = function(a) return 1 end})
print(json.encode({__handle = 1, x = 2}))
print(t.__handle == nil, select(2, pcall(json.encode, t)).kind)
"""
    result = spell("lua", source)
    assert result.code == 0, result.err
    assert result.out.splitlines() == ['{"__handle":1,"x":2}', "true\tinvalid_argument"]


def test_lua_forged_handle_cannot_become_a_tool(spell) -> None:
    """A table dressed as the tool (its fields and methods copied) is data, not the tool."""
    source = """
local t = tools.register({name = "adder", description = "adds", parameters = {type = "object"},
                          handler = function(a) return 1 end})
local fake = {}
for k, v in pairs(t) do fake[k] = v end
fake.__handle = 1
print(json.encode(fake))
"""
    result = spell("lua", source)
    expect_error(result, "invalid_argument", contains="json.encode: a function has no JSON form")
