"""Tengo's parser: tokens to a syntax tree (recursive descent, Go-like).

Errors are raised as :class:`TengoParseError` at the first problem, worded
like the reference (``expected 'X', found 'Y'``).
"""

from __future__ import annotations

from . import nodes as n
from .errors import SourceFile, TengoParseError
from .scanner import Scanner, Token
from .tokens import ASSIGN_OPS, BINARY_PREC, CHAR, EOF, FLOAT, IDENT, INT, KEYWORDS, SEMI, STRING

_CLOSERS = frozenset({")", "]", "}"})


def parse(src: SourceFile) -> n.Block:
    """Parse a whole file into a block of statements."""
    return Parser(src).parse_file()


class Parser:
    def __init__(self, src: SourceFile) -> None:
        self.src = src
        self.toks: list[Token] = Scanner(src).tokens()
        self.i = 0
        self.kind, self.value, self.pos = self.toks[0]

    # --- token helpers ----------------------------------------------------

    def next(self) -> None:
        self.i += 1
        self.kind, self.value, self.pos = self.toks[self.i]

    def describe(self) -> str:
        if self.kind == SEMI and self.value == "\n":
            return "newline"
        if self.kind == EOF:
            return "EOF"
        if self.kind in (IDENT, INT, FLOAT, CHAR, STRING):
            return self.src.text[self.pos:self.toks[self.i + 1][2]].strip() or self.kind
        return self.kind

    def error(self, message: str, pos: int | None = None) -> TengoParseError:
        where = self.src.where(self.pos if pos is None else pos)
        return TengoParseError(message, [where], self.src.line_text(where[1]))

    def expect(self, kind: str) -> int:
        if self.kind != kind:
            raise self.error(f"expected '{kind}', found '{self.describe()}'")
        pos = self.pos
        self.next()
        return pos

    def skip_newlines(self) -> None:
        """Lists may span lines: a newline before a closing bracket is not an error."""
        while self.kind == SEMI and self.value == "\n":
            self.next()

    def expect_semi(self) -> None:
        if self.kind == SEMI:
            self.next()
        elif self.kind in _CLOSERS or self.kind == EOF:
            return
        else:
            raise self.error(f"expected ';', found '{self.describe()}'")

    # --- statements -------------------------------------------------------

    def parse_file(self) -> n.Block:
        stmts = self.stmt_list()
        if self.kind != EOF:
            raise self.error(f"expected statement, found '{self.describe()}'")
        return n.Block(0, stmts)

    def stmt_list(self) -> list[n.Node]:
        stmts = []
        while self.kind not in ("}", EOF):
            stmt = self.statement()
            if stmt is not None:
                stmts.append(stmt)
        return stmts

    def block(self) -> n.Block:
        pos = self.expect("{")
        stmts = self.stmt_list()
        self.expect("}")
        return n.Block(pos, stmts)

    def statement(self) -> n.Node | None:
        k = self.kind
        if k == SEMI:
            self.next()
            return None
        if k == "if":
            s = self.if_stmt()
            self.expect_semi()
            return s
        if k == "for":
            s = self.for_stmt()
            self.expect_semi()
            return s
        if k == "return":
            pos = self.pos
            self.next()
            result = None
            if self.kind not in (SEMI, "}", EOF):
                result = self.expr()
            self.expect_semi()
            return n.ReturnStmt(pos, result)
        if k == "export":
            pos = self.pos
            self.next()
            result = self.expr()
            self.expect_semi()
            return n.ExportStmt(pos, result)
        if k in ("break", "continue"):
            pos = self.pos
            self.next()
            self.expect_semi()
            return n.BranchStmt(pos, k)
        s = self.simple_stmt()
        self.expect_semi()
        return s

    def expr_list(self) -> list[n.Node]:
        exprs = [self.expr()]
        while self.kind == ",":
            self.next()
            exprs.append(self.expr())
        return exprs

    def simple_stmt(self, for_in_ok: bool = False) -> n.Node:
        lhs = self.expr_list()
        k = self.kind
        if k in (":=", "=") or k in ASSIGN_OPS:
            self.next()
            rhs = self.expr_list()
            return n.AssignStmt(lhs[0].pos, lhs, k, rhs)
        if k == "in" and for_in_ok:
            self.next()
            if len(lhs) > 2 or not all(isinstance(e, n.Ident) for e in lhs):
                raise self.error("expected identifier in for-in", lhs[0].pos)
            iterable = self.expr()
            key = lhs[0].name  # type: ignore[attr-defined]
            value = lhs[1].name if len(lhs) == 2 else None  # type: ignore[attr-defined]
            return n.ForInStmt(lhs[0].pos, key, value, iterable, n.Block(0, []))
        if len(lhs) > 1:
            raise self.error(f"expected 1 expression, found {len(lhs)}", lhs[0].pos)
        if k in ("++", "--"):
            self.next()
            return n.IncDecStmt(lhs[0].pos, lhs[0], k)
        return n.ExprStmt(lhs[0].pos, lhs[0])

    def if_stmt(self) -> n.IfStmt:
        pos = self.expect("if")
        init = None
        if self.kind == SEMI:
            self.next()
            cond = self.expr()
        else:
            s = self.simple_stmt()
            if self.kind == SEMI:
                self.next()
                init = s
                cond = self.expr()
            elif isinstance(s, n.ExprStmt):
                cond = s.expr
            else:
                raise self.error("missing condition in if statement")
        if self.kind != "{":
            raise self.error(f"expected '{{', found '{self.describe()}'")
        body = self.block()
        orelse = None
        if self.kind == "else":
            self.next()
            if self.kind == "if":
                orelse = self.if_stmt()
            elif self.kind == "{":
                orelse = self.block()
            else:
                raise self.error("expected if statement or block")
        return n.IfStmt(pos, init, cond, body, orelse)

    def for_stmt(self) -> n.Node:
        pos = self.expect("for")
        if self.kind == "{":
            return n.ForStmt(pos, None, None, None, self.block())
        init = cond = post = None
        if self.kind != SEMI:
            s = self.simple_stmt(for_in_ok=True)
            if isinstance(s, n.ForInStmt):
                s.body = self.block()
                s.pos = pos
                return s
            if self.kind == "{":
                if not isinstance(s, n.ExprStmt):
                    raise self.error("expected for loop condition", s.pos)
                return n.ForStmt(pos, None, s.expr, None, self.block())
            init = s
        self.expect(SEMI)
        if self.kind != SEMI:
            cond = self.expr()
        self.expect(SEMI)
        if self.kind != "{":
            post = self.simple_stmt()
        return n.ForStmt(pos, init, cond, post, self.block())

    # --- expressions ------------------------------------------------------

    def expr(self) -> n.Node:
        x = self.binary(1)
        if self.kind == "?":
            self.next()
            t = self.expr()
            self.expect(":")
            f = self.expr()
            return n.CondExpr(x.pos, x, t, f)
        return x

    def binary(self, prec: int) -> n.Node:
        x = self.unary()
        while True:
            op_prec = BINARY_PREC.get(self.kind, 0)
            if op_prec < prec:
                return x
            op = self.kind
            self.next()
            y = self.binary(op_prec + 1)
            x = n.BinaryExpr(x.pos, op, x, y)

    def unary(self) -> n.Node:
        if self.kind in ("+", "-", "!", "^"):
            pos, op = self.pos, self.kind
            self.next()
            operand = self.unary()
            return n.UnaryExpr(pos, op, operand)
        return self.primary()

    def primary(self) -> n.Node:
        x = self.operand()
        while True:
            k = self.kind
            if k == ".":
                self.next()
                if self.kind == IDENT:
                    name = self.value
                elif self.kind in KEYWORDS:
                    # llmspell extension: a keyword may name a field after "." so that
                    # the spell API's `log.error(...)` can be written as documented.
                    name = self.kind
                else:
                    raise self.error(f"expected selector, found '{self.describe()}'")
                x = n.SelectorExpr(x.pos, x, name)  # type: ignore[arg-type]
                self.next()
            elif k == "[":
                self.next()
                low = high = None
                if self.kind != ":":
                    low = self.expr()
                if self.kind == ":":
                    self.next()
                    if self.kind != "]":
                        high = self.expr()
                    self.expect("]")
                    x = n.SliceExpr(x.pos, x, low, high)
                else:
                    self.expect("]")
                    x = n.IndexExpr(x.pos, x, low)  # type: ignore[arg-type]
            elif k == "(":
                self.next()
                args: list[n.Node] = []
                spread = False
                self.skip_newlines()
                while self.kind != ")":
                    args.append(self.expr())
                    if self.kind == "...":
                        spread = True
                        self.next()
                        self.skip_newlines()
                        break
                    self.skip_newlines()
                    if self.kind != ",":
                        break
                    self.next()
                    self.skip_newlines()
                self.expect(")")
                x = n.CallExpr(x.pos, x, args, spread)
            else:
                return x

    def operand(self) -> n.Node:
        k, v, pos = self.kind, self.value, self.pos
        if k == IDENT:
            self.next()
            return n.Ident(pos, v)  # type: ignore[arg-type]
        if k == INT:
            self.next()
            return n.IntLit(pos, v)  # type: ignore[arg-type]
        if k == FLOAT:
            self.next()
            return n.FloatLit(pos, v)  # type: ignore[arg-type]
        if k == STRING:
            self.next()
            return n.StringLit(pos, v)  # type: ignore[arg-type]
        if k == CHAR:
            self.next()
            return n.CharLit(pos, v)  # type: ignore[arg-type]
        if k in ("true", "false"):
            self.next()
            return n.BoolLit(pos, k == "true")
        if k == "undefined":
            self.next()
            return n.UndefinedLit(pos)
        if k == "(":
            self.next()
            self.skip_newlines()
            x = self.expr()
            self.skip_newlines()
            self.expect(")")
            return x
        if k == "[":
            return self.array_lit()
        if k == "{":
            return self.map_lit()
        if k == "func":
            return self.func_lit()
        if k in ("error", "immutable"):
            self.next()
            self.expect("(")
            self.skip_newlines()
            x = self.expr()
            self.skip_newlines()
            self.expect(")")
            return n.ErrorExpr(pos, x) if k == "error" else n.ImmutableExpr(pos, x)
        if k == "import":
            self.next()
            self.expect("(")
            if self.kind != STRING:
                raise self.error(f"expected string, found '{self.describe()}'")
            name = self.value
            self.next()
            self.expect(")")
            return n.ImportExpr(pos, name)  # type: ignore[arg-type]
        raise self.error(f"expected operand, found '{self.describe()}'")

    def array_lit(self) -> n.ArrayLit:
        pos = self.expect("[")
        elements = []
        self.skip_newlines()
        while self.kind != "]":
            elements.append(self.expr())
            self.skip_newlines()
            if self.kind != ",":
                break
            self.next()
            self.skip_newlines()
        self.expect("]")
        return n.ArrayLit(pos, elements)

    def map_lit(self) -> n.MapLit:
        pos = self.expect("{")
        keys: list[str] = []
        values: list[n.Node] = []
        self.skip_newlines()
        while self.kind != "}":
            if self.kind in (IDENT, STRING):
                keys.append(self.value)  # type: ignore[arg-type]
                self.next()
            else:
                raise self.error(f"expected map key, found '{self.describe()}'")
            self.expect(":")
            values.append(self.expr())
            self.skip_newlines()
            if self.kind != ",":
                break
            self.next()
            self.skip_newlines()
        self.expect("}")
        return n.MapLit(pos, keys, values)

    def func_lit(self) -> n.FuncLit:
        pos = self.expect("func")
        self.expect("(")
        params: list[str] = []
        param_pos: list[int] = []
        varargs = False
        self.skip_newlines()
        while self.kind != ")":
            if self.kind == "...":
                varargs = True
                self.next()
            if self.kind != IDENT:
                raise self.error(f"expected identifier, found '{self.describe()}'")
            params.append(self.value)  # type: ignore[arg-type]
            param_pos.append(self.pos)
            self.next()
            self.skip_newlines()
            if varargs or self.kind != ",":
                break
            self.next()
            self.skip_newlines()
        self.expect(")")
        if self.kind != "{":
            raise self.error(f"expected '{{', found '{self.describe()}'")
        body = self.block()
        return n.FuncLit(pos, params, varargs, body, param_pos)
