"""Models: which pydantic-ai model serves a spell's model name, and the calls the ``llm`` bridge makes.

- ``resolve``: names, aliases and fallback lists -> pydantic-ai models (``resolve_model``, ``resolve_chain``).
- ``calls``: ``complete``, ``stream``, ``list_models``, ``list_providers`` with API.md's shapes.
- ``errors``: provider failures -> one-line ``SpellError``s.
- ``local``: the embedded SmolLM2 model, in process through llama.cpp.

Nothing here imports pydantic-ai at import time, so ``import llmspell`` stays fast.
"""
