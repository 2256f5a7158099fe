"""The Tengo syntax tree.

Every node has ``pos``: the character offset the reference implementation
reports for it (for a binary expression its left operand, for a call its
callee, for an assignment its left-hand side), so runtime errors point where
the reference points.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class Node:
    __slots__ = ()
    pos: int


# --- expressions -----------------------------------------------------------

@dataclass(slots=True)
class Ident(Node):
    pos: int
    name: str


@dataclass(slots=True)
class IntLit(Node):
    pos: int
    value: int


@dataclass(slots=True)
class FloatLit(Node):
    pos: int
    value: float


@dataclass(slots=True)
class StringLit(Node):
    pos: int
    value: str


@dataclass(slots=True)
class CharLit(Node):
    pos: int
    value: int


@dataclass(slots=True)
class BoolLit(Node):
    pos: int
    value: bool


@dataclass(slots=True)
class UndefinedLit(Node):
    pos: int


@dataclass(slots=True)
class ArrayLit(Node):
    pos: int
    elements: list[Node]


@dataclass(slots=True)
class MapLit(Node):
    pos: int
    keys: list[str]
    values: list[Node]


@dataclass(slots=True)
class FuncLit(Node):
    pos: int
    params: list[str]
    varargs: bool
    body: Block
    param_pos: list[int] = field(default_factory=list)


@dataclass(slots=True)
class UnaryExpr(Node):
    pos: int
    op: str
    operand: Node


@dataclass(slots=True)
class BinaryExpr(Node):
    pos: int
    op: str
    left: Node
    right: Node


@dataclass(slots=True)
class CondExpr(Node):
    pos: int
    cond: Node
    true: Node
    false: Node


@dataclass(slots=True)
class CallExpr(Node):
    pos: int
    func: Node
    args: list[Node]
    spread: bool


@dataclass(slots=True)
class IndexExpr(Node):
    pos: int
    expr: Node
    index: Node


@dataclass(slots=True)
class SelectorExpr(Node):
    pos: int
    expr: Node
    name: str


@dataclass(slots=True)
class SliceExpr(Node):
    pos: int
    expr: Node
    low: Node | None
    high: Node | None


@dataclass(slots=True)
class ErrorExpr(Node):
    pos: int
    expr: Node


@dataclass(slots=True)
class ImmutableExpr(Node):
    pos: int
    expr: Node


@dataclass(slots=True)
class ImportExpr(Node):
    pos: int
    name: str


# --- statements ------------------------------------------------------------

@dataclass(slots=True)
class Block(Node):
    pos: int
    stmts: list[Node]


@dataclass(slots=True)
class ExprStmt(Node):
    pos: int
    expr: Node


@dataclass(slots=True)
class AssignStmt(Node):
    pos: int
    lhs: list[Node]
    op: str  # ":=", "=", or a compound operator such as "+="
    rhs: list[Node]


@dataclass(slots=True)
class IncDecStmt(Node):
    pos: int
    expr: Node
    op: str  # "++" or "--"


@dataclass(slots=True)
class IfStmt(Node):
    pos: int
    init: Node | None
    cond: Node
    body: Block
    orelse: Node | None  # IfStmt or Block


@dataclass(slots=True)
class ForStmt(Node):
    pos: int
    init: Node | None
    cond: Node | None
    post: Node | None
    body: Block


@dataclass(slots=True)
class ForInStmt(Node):
    pos: int
    key: str
    value: str | None
    iterable: Node
    body: Block


@dataclass(slots=True)
class ReturnStmt(Node):
    pos: int
    result: Node | None


@dataclass(slots=True)
class ExportStmt(Node):
    pos: int
    result: Node


@dataclass(slots=True)
class BranchStmt(Node):
    pos: int
    kind: str  # "break" or "continue"


@dataclass(slots=True)
class EmptyStmt(Node):
    pos: int
