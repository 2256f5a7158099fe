"""An instruction budget for JavaScript spells, by counting in the source.

QuickJS's Python binding exposes no instruction counter (its interrupt
handler serves only the time limit), so when a run has ``max_instructions``
the spell's source is parsed with tree-sitter and a call of the prelude's
tick function is put at the start of every loop body and every function body.
A tick is one loop iteration or one call — the unit the Tengo engine counts
too.  Nothing is inserted across lines, so line numbers stay the spell's own.
"""

from __future__ import annotations

from ..errors import SpellError

_LOOPS = {"for_statement", "for_in_statement", "while_statement", "do_statement"}
_FUNCTIONS = {
    "function_declaration", "function_expression", "arrow_function", "method_definition",
    "generator_function", "generator_function_declaration", "function",
}

_parser = None


def parser():  # noqa: ANN201 - tree_sitter types are optional at import time
    """The tree-sitter parser of JavaScript, made once."""
    global _parser
    if _parser is None:
        import tree_sitter_javascript
        from tree_sitter import Language, Parser

        _parser = Parser(Language(tree_sitter_javascript.language()))
    return _parser


def instrument(source: str, tick: str, filename: str) -> str:
    """``source`` with ``tick()`` called at each loop iteration and function entry."""
    data = source.encode("utf-8")
    tree = parser().parse(data)
    if tree.root_node.has_error:
        # QuickJS accepted the spell (it is checked first), but the counter cannot
        # read it: refuse rather than run it uncounted.
        raise SpellError("invalid_argument", "--max-instructions: this spell uses JavaScript syntax that the "
                         "instruction counter cannot read", file=filename,
                         hint="run it without --max-instructions (--timeout still bounds it)")
    call = f"{tick}();".encode()
    edits: list[tuple[int, bytes]] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.type not in _LOOPS and node.type not in _FUNCTIONS:
            continue
        body = node.child_by_field_name("body")
        if body is None:
            continue
        if body.type == "statement_block":
            edits.append((body.start_byte + 1, call))
        elif node.type == "arrow_function":  # `x => expr` becomes `x => (tick(), expr)`
            edits.append((body.start_byte, b"(" + call[:-1] + b", "))
            edits.append((body.end_byte, b")"))
        else:  # a loop whose body is one statement: `{ tick(); stmt }`
            edits.append((body.start_byte, b"{ " + call + b" "))
            edits.append((body.end_byte, b" }"))
    for offset, text in sorted(edits, key=lambda e: e[0], reverse=True):
        data = data[:offset] + text + data[offset:]
    return data.decode("utf-8")
