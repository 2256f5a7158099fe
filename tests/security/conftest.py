"""The red-team suite: untrusted spells attacking the sandbox through the public surface.

Every case runs a spell the way a user does (``python -m llmspell run``, or
``llmspell.Runtime``) and checks what the user sees: the exact error kind on
stderr, that the CLI itself is alive and exits cleanly (1 = the spell failed,
never a crash or a signal), that no Python traceback or host path leaks, that
nothing outside the granted folders changed, and that a denied server got no
request.

Helpers:

* :func:`run_spell` / the ``spell`` fixture: ``(exit_code, stdout, stderr, elapsed)``.
* :func:`error_kind`: the kind of the error the CLI printed (``file:line: kind: message``).
* ``tree``: a working folder with ``allowed/``, a same-prefix sibling ``allowed-x/``,
  ``outside/`` and ``outside/secret.txt``, plus :meth:`Tree.snapshot` to prove
  nothing outside ``allowed/`` changed.
* ``recorder``: HTTP servers on 127.0.0.1 that record every request they get.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

LANGS = ("lua", "js")
EXT = {"lua": ".lua", "js": ".js", "tengo": ".tengo"}
#: Variables that would make a run depend on the machine, and fake secrets a spell must never see.
_LEAKY_VARS = (
    "LLMSPELL_MODEL", "LLMSPELL_CONFIG", "LLMSPELL_DEBUG", "OPENAI_BASE_URL", "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY", "GOOGLE_API_KEY", "GEMINI_API_KEY", "OLLAMA_API_KEY", "OLLAMA_BASE_URL",
    "LOCAL_LLM_KEY", "HOME",
)
SECRET_KEY = "sk-redteam-0123456789abcdef"
SECRETS = {
    "OPENAI_API_KEY": SECRET_KEY,
    "ANTHROPIC_API_KEY": "sk-ant-redteam-secret",
    "MY_SERVICE_TOKEN": "tok-redteam-secret",
}

_SITE = re.compile(r"site-packages|dist-packages|/lib/python3|\.venv/")
_ERROR_LINE = re.compile(r"^(?:[^\n]*?: )?(?P<kind>[a-z_]+): ", re.M)
_KINDS = (
    "invalid_argument", "not_found", "permission_denied", "timeout", "memory_limit", "provider_error",
    "rate_limited", "validation_error", "tool_error", "cancelled", "internal", "syntax_error",
    "runtime_error", "limit_exceeded",
)


@dataclass
class Result:
    code: int
    out: str
    err: str
    elapsed: float

    def __iter__(self) -> Iterator:
        return iter((self.code, self.out, self.err, self.elapsed))

    @property
    def kind(self) -> str | None:
        return error_kind(self.err)


def error_kind(stderr: str) -> str | None:
    """The kind of the error the CLI reported: the first line is ``where: kind: message``."""
    first = stderr.strip().splitlines()[0] if stderr.strip() else ""
    for kind in _KINDS:
        if f" {kind}: " in f" {first}" or first.startswith(f"{kind}: "):
            return kind
    return None


def assert_clean(*texts: str, secrets: tuple[str, ...] = tuple(SECRETS.values())) -> None:
    """Nothing a user sees shows a Python traceback, a host source path or a secret."""
    for text in texts:
        assert "Traceback (most recent call last)" not in text, text
        assert 'File "/' not in text, text
        assert not _SITE.search(text), text
        assert "/src/llmspell/" not in text, text
        assert "lupa." not in text and "_lupa" not in text and "quickjs." not in text, text
        assert "<built-in" not in text and "<bound method" not in text and " object at 0x" not in text, text
        for secret in secrets:
            assert secret not in text, f"a secret leaked: {text}"


def run_spell(lang: str, source: str, *flags: str, cwd: Path, env: dict[str, str] | None = None,
              name: str = "spell", timeout: float = 60) -> Result:
    """Write ``source`` as ``cwd/NAME.ext`` and run it with the CLI."""
    path = cwd / (name + EXT[lang])
    path.write_text(source, encoding="utf-8")
    base = {k: v for k, v in os.environ.items() if k not in _LEAKY_VARS}
    base.update(SECRETS)
    base["HOME"] = str(cwd / "home")
    base["PYTHONIOENCODING"] = "utf-8"
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "llmspell", "run", name + EXT[lang], *flags], cwd=cwd, env={**base, **(env or {})},
        capture_output=True, text=True, timeout=timeout,
    )
    elapsed = time.monotonic() - started
    assert proc.returncode in (0, 1), f"the CLI died (exit {proc.returncode}): {proc.stderr}"
    assert_clean(proc.stdout, proc.stderr)
    return Result(proc.returncode, proc.stdout, proc.stderr, elapsed)


def expect_error(result: Result, kind: str, *, contains: str | None = None) -> None:
    assert result.code == 1, f"expected {kind}, the spell succeeded: {result.out!r}"
    assert result.kind == kind, f"expected {kind}: {result.err}"
    if contains is not None:
        assert contains in result.err, result.err


# -- a folder layout full of traps -------------------------------------------------

@dataclass
class Tree:
    """root/
         allowed/inside.txt, allowed/sub/, allowed/link-out -> ../outside (a symlink)
         allowed-x/secret.txt          (same prefix as allowed)
         outside/secret.txt
         home/secret.txt               ($HOME of the spell)
    """

    root: Path

    @property
    def allowed(self) -> Path:
        return self.root / "allowed"

    @property
    def outside(self) -> Path:
        return self.root / "outside"

    def snapshot(self) -> dict[str, str]:
        """Every path below root except inside allowed/ (and the spell files), with a content hash."""
        out: dict[str, str] = {}
        for dirpath, dirnames, filenames in os.walk(self.root):
            rel = os.path.relpath(dirpath, self.root)
            if rel == "allowed" or rel.startswith("allowed" + os.sep):
                continue
            for name in dirnames + filenames:
                p = Path(dirpath) / name
                key = os.path.relpath(p, self.root)
                if rel == "." and name.startswith("spell"):
                    continue
                if p.is_symlink():
                    out[key] = "link:" + os.readlink(p)
                elif p.is_file():
                    out[key] = hashlib.sha256(p.read_bytes()).hexdigest()
                else:
                    out[key] = "dir"
        return out


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    root = tmp_path / "work"
    (root / "allowed" / "sub").mkdir(parents=True)
    (root / "allowed" / "inside.txt").write_text("inside")
    (root / "allowed-x").mkdir()
    (root / "allowed-x" / "secret.txt").write_text("sibling secret")
    (root / "outside").mkdir()
    (root / "outside" / "secret.txt").write_text("outside secret")
    (root / "outside" / "module.lua").write_text("return 'outside module'")
    (root / "outside" / "module.js").write_text("return 'outside module'")
    (root / "home").mkdir()
    (root / "home" / "secret.txt").write_text("home secret")
    (root / "allowed" / "link-out").symlink_to("../outside")
    (root / "allowed" / "link-file").symlink_to("../outside/secret.txt")
    return Tree(root)


@pytest.fixture
def spell(tree: Tree):
    """``spell(lang, source, *flags)`` -> Result, run in the ``tree`` folder."""

    def run(lang: str, source: str, *flags: str, **kwargs) -> Result:
        return run_spell(lang, source, *flags, cwd=tree.root, **kwargs)

    return run


@pytest.fixture(scope="session")
def startup(tmp_path_factory: pytest.TempPathFactory) -> float:
    """How long the CLI takes to run a trivial spell here: subtracted from timings."""
    cwd = tmp_path_factory.mktemp("startup")
    best = min(run_spell("lua", "return 1", cwd=cwd).elapsed for _ in range(2))
    return best


# -- HTTP servers that record what reached them -----------------------------------

@dataclass
class Recorder:
    port: int
    hits: list[str] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _handler(rec: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            parts = urlsplit(self.path)
            rec.hits.append(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path == "/redirect":
                status, body, headers = int(query.get("status", "302")), b"", {"Location": query["to"]}
            else:
                status, body, headers = 200, f"hello from {rec.port}".encode(), {"Content-Type": "text/plain"}
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # noqa: N802 - a model request is a POST: record it, answer like a GET
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            rec.hits.append(f"POST {self.path}")
            body = f"hello from {rec.port}".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.fixture
def recorder() -> Iterator:
    """``recorder(port=0)`` starts one more recording server on 127.0.0.1 (GETs and POSTs; on
    ``port`` if given, e.g. where a default would point); all close after the test."""
    started: list[Recorder] = []

    def make(port: int = 0) -> Recorder:
        rec = Recorder(0)
        server = ThreadingHTTPServer(("127.0.0.1", port), _handler(rec))
        rec.port, rec.server = server.server_address[1], server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(rec)
        return rec

    yield make
    for rec in started:
        assert rec.server is not None
        rec.server.shutdown()
        rec.server.server_close()
