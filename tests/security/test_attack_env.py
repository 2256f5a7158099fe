"""Environment probing: API keys are never visible to a spell.

The CLI runs with fake keys in its environment (conftest.SECRETS); every
helper already asserts that none of their values appears in anything the user
sees.  These cases try the ways a spell could ask for them.
"""

from __future__ import annotations

import pytest
from tests.security.conftest import LANGS, SECRETS, expect_error


def _get(lang: str, name: str) -> str:
    return f'return env.get("{name}")' if lang == "lua" else f'return await env.get("{name}")'


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", sorted(SECRETS))
def test_secret_variable_is_denied_and_names_the_flag(spell, lang, name):
    result = spell(lang, _get(lang, name))
    expect_error(result, "permission_denied", contains=f"--allow-env={name}")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "MY_SERVICE_TOKEN"])
def test_permissive_profile_still_hides_secrets(spell, lang, name):
    result = spell(lang, _get(lang, name), "--profile", "permissive")
    expect_error(result, "permission_denied", contains="--deny-env=")


@pytest.mark.parametrize("name", ["", "OPENAI_API_KEY=", "OPENAI_API_KEY\\0", "A=B"],
                         ids=["empty", "trailing_equals", "nul", "assignment"])
def test_malformed_names_are_invalid(spell, name):
    expect_error(spell("lua", _get("lua", name), "--allow-env=MYAPP_*"), "invalid_argument")


@pytest.mark.parametrize("name", ["*", "MYAPP", "OPENAI_*", "openai_api_key"])
def test_a_glob_grant_is_not_a_glob_lookup(spell, name):
    """``--allow-env=MYAPP_*`` allows names that match it; a spell asking for the
    pattern itself, or another case, gets nothing."""
    expect_error(spell("js", _get("js", name), "--allow-env=MYAPP_*"), "permission_denied")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path", ["/proc/self/environ", "/proc/thread-self/environ", "/proc/self/task/../environ",
                                  "/proc/self/mem"])
def test_process_environment_file_is_never_readable(spell, lang, path):
    """Even with read access to everything, the worker's (a fork of the host)
    environment cannot be read from /proc."""
    source = f'return tools.file_read("{path}")' if lang == "lua" else f'return await tools.file_read("{path}")'
    expect_error(spell(lang, source, "--allow-read"), "permission_denied", contains="never allowed")


def test_parent_process_environment_is_never_readable(spell):
    source = """
    local pids = tools.file_list("/proc")
    local tried, got = 0, 0
    for _, e in ipairs(pids) do
      if e.name:match("^%d+$") then
        tried = tried + 1
        local ok = pcall(tools.file_read, "/proc/" .. e.name .. "/environ")
        if ok then got = got + 1 end
      end
    end
    return tried > 0 and got == 0
    """
    result = spell("lua", source, "--allow-read")
    assert result.code == 0, result.err
    assert result.out.strip() == "true"


@pytest.mark.parametrize("lang", LANGS)
def test_no_global_holds_a_secret(spell, lang):
    """Serialise everything reachable from the globals: no key is in it."""
    if lang == "lua":
        source = """
        local seen, parts = {}, {}
        local function walk(v, depth)
          if type(v) == "table" then
            if seen[v] or depth > 6 then return end
            seen[v] = true
            for k, x in pairs(v) do parts[#parts + 1] = tostring(k); walk(x, depth + 1) end
          else parts[#parts + 1] = tostring(v) end
        end
        _G.utf8 = nil  -- utf8.charpattern is not UTF-8 text (see test_attack_escapes)
        walk(_G, 0)
        walk(params, 0)
        parts[#parts + 1] = os.date() .. tostring(os.time())
        return table.concat(parts, " ")
        """
    else:
        source = """
        const seen = new Set(), parts = [];
        function walk(v, depth) {
          if ((typeof v === "object" || typeof v === "function") && v !== null) {
            if (seen.has(v) || depth > 6) return;
            seen.add(v);
            for (const k of Object.getOwnPropertyNames(v)) {
              parts.push(k);
              let x; try { x = v[k]; } catch (e) { continue; }
              walk(x, depth + 1);
            }
          } else parts.push(String(v));
        }
        walk(globalThis, 0);
        return parts.join(" ");
        """
    result = spell(lang, source)
    assert result.code == 0, result.err
    assert len(result.out) > 100  # the walk saw something; run_spell asserts no secret is in it


@pytest.mark.parametrize("lang", LANGS)
def test_provider_error_does_not_show_the_key(spell, recorder, lang):
    """A model call that fails (the provider's address is not reachable) names the problem, not the key."""
    source = ('return llm.complete({model = "openai:gpt-4o", prompt = "hi"})' if lang == "lua"
              else 'return await llm.complete({model: "openai:gpt-4o", prompt: "hi"})')
    server = recorder()
    result = spell(lang, source, env={"OPENAI_BASE_URL": f"http://127.0.0.1:{server.port}/v1"})
    assert result.code == 1
    assert result.kind in ("provider_error", "not_found", "invalid_argument"), result.err
