"""Tengo (github.com/d5/tengo v2) for llmspell: an interpreter written in Python.

Public entry point: :func:`llmspell.engines.tengo.program.compile_program`.
The value model is :mod:`.objects`; the standard library is :mod:`.stdlib`.
"""
