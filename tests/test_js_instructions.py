"""--max-instructions for JavaScript: loop iterations and calls, counted in the
spell's source (QuickJS has no instruction counter of its own)."""

from __future__ import annotations

import json

import pytest

# Syntax that an instrumenting rewrite could break: every kind of loop and
# function, expression-bodied arrows, labels, and text that only looks like code.
BUSY_BUT_FINITE = r"""
class Box { constructor(v) { this.v = v } get double() { return this.v * 2 } static of(v) { return new Box(v) } }
function* gen(n) { for (let i = 0; i < n; i++) yield i }
const add = (a, b) => a + b, obj = () => ({ for: 1, while: 2 });
const tpl = `for (;;) { ${add(1, 2)} } /* not a loop */`, re = /while\(true\)/g, ratio = 10 / 2 / 5;
let total = 0;
outer: for (let i = 0; i < 5; i++) { for (const j of [1, 2, 3]) { if (j === 3) continue outer; total += j } }
for (const k in { a: 1, b: 2 }) total += k.length
let n = 0; do n++; while (n < 4)
while (n > 0) n--
for (const x of gen(3)) total += x
const r = await (async () => [1, 2, 3].map(x => x * Box.of(x).double).reduce(add, 0))();
return { total, r, tpl, re: String(re), ratio, obj: obj(), label: "for(;;)" };
"""


def _run(isolated, name, source, *flags):
    isolated.write(name, source)
    return isolated.cli("run", name, "--json", *flags)


def test_the_count_changes_nothing_a_spell_computes(isolated):
    plain = _run(isolated, "busy.js", BUSY_BUT_FINITE)
    counted = _run(isolated, "busy.js", BUSY_BUT_FINITE, "--max-instructions", "100000")
    assert plain.returncode == 0, plain.stderr
    assert counted.returncode == 0, counted.stderr
    assert json.loads(counted.stdout) == json.loads(plain.stdout)
    assert json.loads(plain.stdout)["r"] == 28  # 1*2 + 2*4 + 3*6


@pytest.mark.parametrize("source", [
    "let n = 0\nwhile (true) n++",
    "let n = 0\nwhile (true) { try { for (;;) n++ } catch (e) { n = 0 } }",  # catching buys nothing
    "function f(n) { return n <= 1 ? n : f(n - 1) + f(n - 2) }\nreturn f(40)",  # calls count too
    "const spin = x => spin(x)\ntry { spin(1) } catch (e) {}\nfor (;;) {}",
], ids=["loop", "caught", "recursion", "arrow_then_loop"])
def test_a_spell_over_its_budget_is_stopped(isolated, source):
    p = _run(isolated, "spin.js", source, "--max-instructions", "50000", "--timeout", "30")
    assert p.returncode == 1
    err = json.loads(p.stdout)["error"]
    assert err["kind"] == "limit_exceeded", p.stderr
    assert "--max-instructions" in p.stderr
    isolated.no_traceback(p.stdout, p.stderr)


def test_line_numbers_are_the_spells_own_when_counted(isolated):
    source = "const f = x => x\nfor (let i = 0; i < 2; i++) f(i)\nnull.boom\n"
    plain = _run(isolated, "err.js", source)
    counted = _run(isolated, "err.js", source, "--max-instructions", "1000")
    assert plain.returncode == counted.returncode == 1
    assert "err.js:3" in plain.stderr and "err.js:3" in counted.stderr


def test_a_required_module_is_counted_too(isolated):
    # The module's loops ran uncounted: the budget held only for the spell's own source.
    isolated.write("busy_module.js", "let n = 0;\nfor (let i = 0; i < 1e6; i++) n++;\nreturn n\n")
    isolated.write("light_module.js", "let n = 0;\nfor (let i = 0; i < 10; i++) n++;\nreturn n\n")
    light = _run(isolated, "light.js", "return await spell.require('./light_module.js')", "--max-instructions", "1000")
    assert light.returncode == 0 and json.loads(light.stdout) == 10, light.stderr
    busy = _run(isolated, "busy.js", "return await spell.require('./busy_module.js')", "--max-instructions", "100000")
    assert busy.returncode == 1, busy.stdout
    assert json.loads(busy.stdout)["error"]["kind"] == "limit_exceeded"
