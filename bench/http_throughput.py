"""Requests per second of ``tools.http_get`` from a spell, against a plain httpx client.

A loopback HTTP/1.1 server (asyncio, keep-alive, a 5-byte answer) runs in its
own process.  In the same run, the same number of GETs are made by:

- a plain ``httpx.AsyncClient`` (one client, keep-alive), with the same number
  of requests in flight as the spell may have (the policy's ``max_concurrent``),
  and one at a time;
- a JavaScript spell that queues them all at once (``Promise.all``), and a Lua
  spell that makes them one after another, each through ``tools.http_get`` and
  the whole policy check (URL, address, redirects, size cap), in the worker
  process a spell runs in.  The time of an empty spell is subtracted.

The issue this answers: 10 000 queued calls drained about 16 requests in 2 s,
because every request built a new client and TLS context (~40 ms of CA loading
on the event loop).

    .venv/bin/python bench/http_throughput.py [REQUESTS]
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import time

from llmspell import Policy, Runtime

SERVER = textwrap.dedent("""
    import asyncio
    ANSWER = b"HTTP/1.1 200 OK\\r\\nContent-Type: text/plain\\r\\nContent-Length: 5\\r\\n\\r\\nhello"
    async def handle(reader, writer):
        try:
            while True:
                await reader.readuntil(b"\\r\\n\\r\\n")
                writer.write(ANSWER)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        print(server.sockets[0].getsockname()[1], flush=True)
        await server.serve_forever()
    asyncio.run(main())
""")


async def plain_httpx(url: str, n: int, in_flight: int) -> float:
    import httpx

    async with httpx.AsyncClient(trust_env=False) as client:
        gate = asyncio.Semaphore(in_flight)

        async def one() -> None:
            async with gate:
                response = await client.get(url)
                assert response.text == "hello"

        await client.get(url)  # connect once, as the spell's first request also does
        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(n)))
        return time.perf_counter() - started


def spell_time(runtime: Runtime, source: str, language: str, n: int) -> float:
    started = time.perf_counter()
    result = runtime.run(source=source, language=language)
    elapsed = time.perf_counter() - started
    assert result == n, result
    return elapsed


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        url = f"http://127.0.0.1:{port}/"
        policy = Policy(allow_net=(f"127.0.0.1:{port}",), max_bridge_calls=None)
        in_flight = policy.max_concurrent or 16
        runtime = Runtime(policy=policy, timeout=600)
        queued = (f'const ps = []; for (let i = 0; i < {n}; i++) ps.push(tools.http_get("{url}"));\n'
                  f'return (await Promise.all(ps)).filter(r => r.body === "hello").length;')
        one_by_one = (f'local ok = 0 for i = 1, {n} do if tools.http_get("{url}").body == "hello" then '
                      f'ok = ok + 1 end end return ok')
        empty_js = min(spell_time(runtime, "return 0", "javascript", 0) for _ in range(3))
        empty_lua = min(spell_time(runtime, "return 0", "lua", 0) for _ in range(3))
        rows = []
        for label, lang, src, empty, flight in (
            (f"queued ({in_flight} in flight), JavaScript", "javascript", queued, empty_js, in_flight),
            ("one at a time, Lua", "lua", one_by_one, empty_lua, 1),
        ):
            base = min(asyncio.run(plain_httpx(url, n, flight)) for _ in range(2))
            spell = min(spell_time(runtime, src, lang, n) - empty for _ in range(2))
            rows.append((label, n / base, n / spell))
        print(f"{n} GETs of a 5-byte answer on loopback; requests per second (best of 2):")
        print(f"  {'':42} {'httpx':>9} {'http_get':>9} {'ratio':>7}")
        for label, base_rps, spell_rps in rows:
            print(f"  {label:42} {base_rps:9.0f} {spell_rps:9.0f} {spell_rps / base_rps:7.2f}")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
