"""Models run in the parent, not in the spell's worker: memory, loading once, streams, fallback.

A worker's models are stand-ins that forward each request to the parent
(models/remote.py -> models/gateway.py).  So the spell's memory limit caps
the spell alone (the embedded model's ~100 MB are the parent's), a process
that runs many spells loads the embedded model once, and what a spell sees
of a model call -- the response dict, the model that answered after a
fallback, a provider failure's message, stream pieces as they come -- is
the same in a worker as in process.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from llmspell import Policy, Runtime
from llmspell.config import ProviderSettings, Settings
from llmspell.errors import SpellError
from llmspell.models import gateway

REPO = Path(__file__).resolve().parents[2]


# -- the spell's memory is the spell's ------------------------------------------------------------

@pytest.mark.parametrize("example", ["lua/hello.lua", "js/hello.js", "tengo/hello.tengo"])
def test_hello_runs_on_the_local_model_under_a_64mb_limit(isolated, example):
    """Before, the model loaded in the worker and failed inside llama.cpp under this limit."""
    p = isolated.cli("run", str(REPO / "examples" / example), "--max-memory", "64MB", "--timeout", "120",
                     timeout=180)
    assert p.returncode == 0, p.stderr
    assert any(c.isalpha() for c in p.stdout)
    isolated.no_traceback(p.stderr)


# Runs in a fresh interpreter (nothing loaded yet); every load of the weights is logged with its pid.
LOAD_ONCE = r"""
import json, os, sys
import llama_cpp
from llmspell import Runtime
from llmspell.config import Settings

log = sys.argv[1]
Llama = llama_cpp.Llama


class Logged(Llama):
    def __init__(self, *args, **kwargs):
        with open(log, "a") as f:
            f.write(f"{os.getpid()}\n")
        super().__init__(*args, **kwargs)


llama_cpp.Llama = Logged
runtime = Runtime(config=Settings(env={}), max_memory=64 << 20)  # nothing configured: the local model
spells = {
    "lua": 'return llm.complete({prompt = "Say hi", max_tokens = 4}).model',
    "javascript": 'return (await llm.complete({prompt: "Say hi", max_tokens: 4})).model;',
    "tengo": 'export llm.complete({prompt: "Say hi", max_tokens: 4}).model',
}
answers = [runtime.run(source=spells[lang], language=lang) for lang in ("lua", "javascript", "tengo", "lua")]
print(json.dumps({"parent": os.getpid(), "loads": open(log).read().split(), "answers": answers}))
"""


def test_the_local_model_loads_once_in_the_parent_for_many_spells(tmp_path):
    log = tmp_path / "loads.txt"
    p = subprocess.run([sys.executable, "-c", LOAD_ONCE, str(log)], capture_output=True, text=True, timeout=300,
                       cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    seen = json.loads(p.stdout)
    assert seen["answers"] == ["local:smollm2"] * 4
    assert seen["loads"] == [str(seen["parent"])]  # once, and in the parent (a worker's pid differs)


# -- what a spell sees is the same in a worker as in process ----------------------------------------

def _refusing_port() -> int:
    with socket.socket() as s:  # bound then closed: connecting there is refused at once
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _settings() -> Settings:
    url = f"http://127.0.0.1:{_refusing_port()}/v1"
    return Settings(env={}, providers={"down": ProviderSettings("down", url, None, "openai-compatible")})


CASES = {
    ("lua", "complete"): ('local r = llm.complete({prompt = "hi", model = MODEL, max_tokens = 8})\n'
                          'return {r.content, r.model, r.finish_reason, r.usage.total_tokens}'),
    ("lua", "stream"): ('local pieces = {}\n'
                        'local r = llm.stream({prompt = "hi", model = MODEL},\n'
                        '  function(t) pieces[#pieces + 1] = t end)\n'
                        'return {table.concat(pieces) == r.content, #pieces, r.model}'),
    ("lua", "error"): ('local ok, err = pcall(llm.complete, {prompt = "hi", model = MODEL})\n'
                       'return {err.kind, err.message}'),
    ("javascript", "complete"): ('const r = await llm.complete({prompt: "hi", model: MODEL, max_tokens: 8});\n'
                                 'return [r.content, r.model, r.finish_reason, r.usage.total_tokens];'),
    ("javascript", "stream"): ('const pieces = [];\n'
                               'for await (const t of llm.stream({prompt: "hi", model: MODEL})) pieces.push(t);\n'
                               'const r = await llm.stream({prompt: "hi", model: MODEL}, (t) => {});\n'
                               'return [pieces.join("") === r.content, pieces.length, r.model];'),
    ("tengo", "complete"): ('r := llm.complete({prompt: "hi", model: MODEL, max_tokens: 8})\n'
                            'if is_error(r) { export r }\n'
                            'export [r.content, r.model, r.finish_reason, r.usage.total_tokens]'),
    ("tengo", "stream"): ('pieces := []\n'
                          'r := llm.stream({prompt: "hi", model: MODEL}, func(t) { pieces = append(pieces, t) })\n'
                          'if is_error(r) { export r }\nexport [len(pieces), r.model]'),
}
MODELS = {"test": ["test"], "fallback": ["down:m", "test"], "down": ["down:m"], "all-down": ["down:m", "down:n"]}


def _literal(language: str, names: list[str]) -> str:
    if len(names) == 1:
        return f'"{names[0]}"'
    quoted = ", ".join(f'"{n}"' for n in names)
    return "{" + quoted + "}" if language == "lua" else "[" + quoted + "]"


@pytest.mark.parametrize("model", sorted(MODELS))
@pytest.mark.parametrize(("language", "case"), sorted(CASES))
def test_a_model_call_looks_the_same_from_a_worker(language, case, model):
    settings = _settings()
    source = CASES[language, case].replace("MODEL", _literal(language, MODELS[model]))
    seen = {}
    for isolation in ("inline", "process"):
        runtime = Runtime(config=settings, isolation=isolation, policy=Policy(max_llm_calls=5))
        try:
            seen[isolation] = runtime.run(source=source, language=language)
        except SpellError as exc:
            seen[isolation] = (exc.kind, exc.message)
    assert seen["process"] == seen["inline"]
    if case == "complete" and "test" in MODELS[model]:
        assert seen["process"][1] == "test"  # the fallback's answer is attributed to the link that gave it


def test_leaving_a_stream_early_stops_it_in_the_parent(monkeypatch):
    """A spell whose chunk callback fails ends its stream; the parent is told and stops generating."""
    ops: list[str] = []
    handle = gateway.ModelGateway.handle

    def recording(self, message, send):
        ops.append(message[2])
        return handle(self, message, send)

    monkeypatch.setattr(gateway.ModelGateway, "handle", recording)
    runtime = Runtime(config=Settings(env={}))  # the local model: slow enough to be stopped midway
    got = runtime.run(source="""
local n = 0
local ok, err = pcall(llm.stream, {prompt = "Count from one to one hundred in words.", max_tokens = 200},
  function(t) n = n + 1; if n == 3 then error("enough") end end)
return {ok, n}
""", language="lua")
    assert got == [False, 3]  # three pieces arrived one by one, then the spell stopped reading
    assert ops == ["resolve", "stream", "cancel"]


def test_a_request_cut_by_the_spells_time_limit_is_cancelled_in_the_parent(monkeypatch):
    """The worker ends the run at its time limit with a request in flight: the parent is told to stop it."""
    ops: list[str] = []
    handle = gateway.ModelGateway.handle

    def recording(self, message, send):
        ops.append(message[2])
        return handle(self, message, send)

    monkeypatch.setattr(gateway.ModelGateway, "handle", recording)
    with socket.socket() as silent:  # accepts connections and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
        settings = Settings(env={}, providers={"silent": ProviderSettings("silent", url, None, "openai-compatible")})
        with pytest.raises(SpellError) as err:
            Runtime(config=settings, timeout=1).run(source='return llm.complete({prompt = "hi", model = "silent:m"})',
                                                    language="lua")
    assert err.value.kind == "timeout"
    assert ops == ["resolve", "request", "cancel"]
