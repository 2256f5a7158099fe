"""Token kinds of the Tengo language.

Tokens are plain strings: an operator or keyword is its own spelling (``"+"``,
``"func"``), and literal/identifier tokens use the upper-case kind names below.
Strings keep the parser readable and the scanner fast.
"""

from __future__ import annotations

IDENT = "IDENT"
INT = "INT"
FLOAT = "FLOAT"
CHAR = "CHAR"
STRING = "STRING"
EOF = "EOF"
SEMI = ";"

KEYWORDS = frozenset({
    "break", "continue", "else", "for", "func", "error", "immutable", "if",
    "return", "export", "true", "false", "in", "undefined", "import",
})

# Longest first, so the scanner can match greedily by trying 3, 2, then 1 chars.
OPERATORS = frozenset({
    "+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", "&^",
    "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>=", "&^=",
    "&&", "||", "++", "--", "==", "<", ">", "=", "!", "!=", "<=", ">=", ":=",
    "...", "(", "[", "{", ",", ".", ")", "]", "}", ";", ":", "?",
})

#: After one of these, a newline ends the statement (Go's semicolon rule).
SEMI_AFTER = frozenset({
    IDENT, INT, FLOAT, CHAR, STRING, "break", "continue", "return", "true", "false",
    "undefined", ")", "]", "}", "++", "--",
})

#: Binary operator precedences (higher binds tighter).
BINARY_PREC = {
    "||": 1,
    "&&": 2,
    "==": 3, "!=": 3, "<": 3, "<=": 3, ">": 3, ">=": 3,
    "+": 4, "-": 4, "|": 4, "^": 4,
    "*": 5, "/": 5, "%": 5, "<<": 5, ">>": 5, "&": 5, "&^": 5,
}

#: Compound assignment operator -> the binary operator it applies.
ASSIGN_OPS = {
    "+=": "+", "-=": "-", "*=": "*", "/=": "/", "%=": "%", "&=": "&", "|=": "|",
    "^=": "^", "<<=": "<<", ">>=": ">>", "&^=": "&^",
}
