"""Provider keys never reach the spell's worker, even for a spell that broke out of its VM.

The worker is a fork of the process that holds the keys (the CLI, a server),
so it starts with them; before the spell runs it drops them (sandbox/keys.py)
and its models are served by the parent (models/gateway.py).  These tests
look from inside the worker (``worker._TEST_PROBE``) at everything a broken
VM could read that holds configuration: ``os.environ``, the C environment,
``/proc/self/environ`` (the block the kernel set up at exec), the run's
settings, the SDK client cache, the model source; and check that no key is
there while what only asks whether a key is set still answers the same.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from llmspell import Policy, Runtime
from llmspell.config import load_settings
from llmspell.sandbox import keys, worker

SECRETS = {"OPENAI_API_KEY": "sk-openai-5ecret-0001", "ANTHROPIC_API_KEY": "sk-ant-5ecret-0002",
           "MYCORP_API_KEY": "mycorp-5ecret-0003", "VLLM_TOKEN": "vllm-5ecret-0004"}
CONFIG = """
[providers.vllm]
type = "openai-compatible"
base_url = "http://127.0.0.1:9/v1"
api_key_env = "VLLM_TOKEN"
"""

# Runs in a fresh interpreter whose environment held the keys from exec, as the CLI's does.
PROBE_SCRIPT = r"""
import asyncio, ctypes, gc, json, os, sys
from llmspell import Runtime
from llmspell.models import resolve, source
from llmspell.sandbox import worker

secrets = json.loads(sys.argv[1])
runtime = Runtime(model="test")


def probe():
    found = {}
    for name in list(secrets):  # (not .items(): its iterator holds a (name, value) tuple on the heap)
        value = secrets[name]
        where = []
        if value in os.environ.values():
            where.append("os.environ")
        if ctypes.CDLL(None).getenv(name.encode()):
            where.append("C environ")
        try:
            with open("/proc/self/environ", "rb") as f:
                if value.encode() in f.read():
                    where.append("/proc/self/environ")
        except OSError:
            pass
        stat = open("/proc/self/stat", "rb").read().rsplit(b")", 1)[1].split()
        start, end = int(stat[47]), int(stat[48])
        if value.encode() in ctypes.string_at(start, end - start):
            where.append("initial environment block")
        if value in runtime.settings.env.values():
            where.append("settings")
        if resolve._clients:
            where.append("client cache")
        if value in repr(vars(source.current())):
            where.append("model source")
        for obj in gc.get_objects():  # every Python object a broken-out spell can reach
            if obj is secrets or obj is globals():
                continue
            try:
                items = list(obj.values()) if type(obj) is dict else obj if type(obj) in (list, tuple) else ()
            except Exception:
                continue
            if any(type(item) is str and item == value for item in items):
                where.append(f"a {type(obj).__name__} on the heap")
                break
        found[name] = where
    said = {name: runtime.settings.env.get(name) for name in secrets}
    return {"found": found, "said": said, "api_key": runtime.settings.api_key("openai")}


async def main():
    resolve.resolve_chain("openai:gpt-4o", runtime.settings)  # a client with the key, cached in this loop
    resolve.resolve_chain("vllm:m", runtime.settings)
    assert resolve._clients
    worker._TEST_PROBE = probe
    return await runtime.arun(source="return 1", language="lua")

print(json.dumps(asyncio.run(main())))
"""


@pytest.fixture
def keyed(isolated) -> dict[str, str]:
    isolated.write("llmspell.toml", CONFIG)
    return {**isolated.env, **SECRETS}


def test_no_key_is_left_in_the_worker(isolated, keyed):
    p = subprocess.run([sys.executable, "-c", PROBE_SCRIPT, json.dumps(SECRETS)], cwd=isolated.cwd, env=keyed,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    seen = json.loads(p.stdout)
    assert seen["found"] == {name: [] for name in SECRETS}
    # ... while the settings still say which keys are set (not what they are)
    assert seen["said"] == {name: keys.PLACEHOLDER for name in SECRETS}
    assert seen["api_key"] == keys.PLACEHOLDER


SPELLS = {
    "lua": "local out = {}\nfor _, p in ipairs(llm.providers()) do out[p.name] = p.configured end\nreturn out",
    "javascript": "const out = {};\nfor (const p of await llm.providers()) out[p.name] = p.configured;\nreturn out;",
    "tengo": "out := {}\nfor p in llm.providers() { out[p.name] = p.configured }\nexport out",
}


@pytest.mark.parametrize("language", sorted(SPELLS))
def test_providers_say_which_keys_are_set_as_in_process(monkeypatch, tmp_path, language):
    """What only asks whether a key is set answers the same in the worker (no key) as in process."""
    (tmp_path / "llmspell.toml").write_text(CONFIG)
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(cwd=tmp_path)
    answers = {isolation: Runtime(config=settings, cwd=tmp_path, isolation=isolation).run(
        source=SPELLS[language], language=language) for isolation in ("inline", "process")}
    assert answers["process"] == answers["inline"]
    assert answers["process"]["openai"] is True and answers["process"]["vllm"] is True
    assert os.environ["OPENAI_API_KEY"] == SECRETS["OPENAI_API_KEY"]  # the parent keeps its keys


def test_a_key_the_policy_lets_the_spell_read_stays(monkeypatch, tmp_path):
    """--allow-env=NAME is the operator giving that variable to the spell: it is not taken away."""
    monkeypatch.setenv("MYCORP_API_KEY", SECRETS["MYCORP_API_KEY"])
    monkeypatch.setenv("OPENAI_API_KEY", SECRETS["OPENAI_API_KEY"])
    runtime = Runtime(policy=Policy(allow_env=("MYCORP_API_KEY",)), cwd=tmp_path, model="test")
    assert runtime.run(source='return env.get("MYCORP_API_KEY")', language="lua") == SECRETS["MYCORP_API_KEY"]
    monkeypatch.setattr(worker, "_TEST_PROBE", lambda: ["MYCORP_API_KEY" in os.environ, "OPENAI_API_KEY" in os.environ])
    assert runtime.run(source="return 1", language="lua") == [True, False]


def test_the_worker_environment_probe_can_fail(monkeypatch, tmp_path):
    """Without the scrub the same probe finds the key: the checks above are not vacuous."""
    monkeypatch.setenv("OPENAI_API_KEY", SECRETS["OPENAI_API_KEY"])
    monkeypatch.setattr(keys, "scrub_environment", lambda names: None)
    monkeypatch.setattr(worker, "_TEST_PROBE", lambda: SECRETS["OPENAI_API_KEY"] in os.environ.values())
    assert Runtime(cwd=tmp_path, model="test").run(source="return 1", language="lua") is True
