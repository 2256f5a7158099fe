"""The embedded SmolLM2 model really answers, in process, with no configuration at all."""

import asyncio
import subprocess
import sys

from llmspell.config import Settings
from llmspell.models.calls import CompletionRequest, complete, stream


def test_default_model_is_the_local_one_and_it_answers() -> None:
    s = Settings(env={})  # nothing configured: the default must be the embedded model
    req = CompletionRequest(
        model=None,
        system="You are a helpful assistant.",
        messages=[{"role": "user", "content": "Say hello in one short sentence."}],
        temperature=0.0,
        max_tokens=24,
    )
    deltas: list[str] = []

    async def on_delta(text: str) -> None:
        deltas.append(text)

    async def both() -> tuple[dict, dict]:
        return await complete(req, s), await stream(req, s, on_delta)

    done, streamed = asyncio.run(both())
    for result in (done, streamed):
        assert result["model"] == "local:smollm2"
        assert result["content"].strip()
        assert result["finish_reason"] in ("stop", "length")
        usage = result["usage"]
        assert 0 < usage["output_tokens"] <= 24 and usage["input_tokens"] > 0
        assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert len(deltas) > 1 and "".join(deltas) == streamed["content"]
    # Same prompt, temperature 0: the streamed answer is the same text as the plain one.
    assert streamed["content"] == done["content"]


def test_the_model_class_and_pydantic_ai_load_only_when_the_local_model_is_used() -> None:
    # In a fresh process: importing llmspell and the model resolution code loads no pydantic-ai;
    # asking for the local model imports its class (models/_llama_model.py), which brings it.
    code = (
        "import sys, llmspell, llmspell.models.resolve as r\n"
        "before = sorted(m for m in sys.modules if m.startswith('pydantic_ai') or m.endswith('_llama_model'))\n"
        "from llmspell.config import Settings\n"
        "from pydantic_ai.models import Model\n"
        "m = r.resolve_model('local:smollm2', Settings(env={}))\n"
        "print(before, type(m).__module__, isinstance(m, Model), m.model_name, m.system)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["[]", "llmspell.models._llama_model", "True", "smollm2", "local"]
