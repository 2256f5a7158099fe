"""Network checks and the one HTTP client spells reach the network through.

Rules (Deno-like, with one addition against server-side request forgery):

- only ``http`` and ``https``; hosts and IP literals are canonicalised first
  (:mod:`.netaddr`), so every spelling of an address meets the same rules;
- the host *as written* must match an ``allow_net`` entry (``example.com``,
  ``example.com:8443``, ``*.example.com``, ``10.0.0.0/8``) and no ``deny_net``
  entry;
- the name is resolved once, and each address it resolves to is checked
  again: loopback, private, link-local, multicast, unspecified and other
  non-public addresses are refused unless that address is itself granted
  (``--allow-net=127.0.0.1:8080``, ``10.0.0.0/8``), or the host is
  ``localhost`` and ``localhost`` is granted, or all of the network is
  (bare ``--allow-net``).  Granting ``example.com`` therefore never grants
  whatever internal address ``example.com`` is made to resolve to;
- the connection goes to the address that was checked (the name still goes in
  the ``Host`` header and TLS SNI, and certificates are verified against it),
  so a second, different DNS answer cannot slip in between check and connect;
- every redirect is a new request and is checked again from the top;
- responses are capped in size and time; the size is counted as each
  compressed layer is inflated (:mod:`.httpdecode`), never after.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from llmspell.errors import SpellError

from .httpclients import LOCATION, client_for
from .httpdecode import ACCEPT_ENCODING, BoundedDecoder, DecodeError
from .netaddr import (
    IPAddress,
    NetRule,
    ParsedURL,
    canonical_ip,
    is_localhost_name,
    is_special,
    parse_rule,
    parse_url,
)

if TYPE_CHECKING:
    from .policy import Policy

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_REDIRECTS = 10
_REDIRECTS = (301, 302, 303, 307, 308)
#: The only caller headers that follow a redirect to another origin: any other may carry
#: a credential (Authorization, cookies, API-key headers of all names).
_CROSS_ORIGIN_HEADERS = ("accept", "accept-language", "user-agent", "content-type")


@dataclass(frozen=True)
class CheckedURL:
    """A URL the policy allows, with the address to connect to."""

    scheme: str
    host: str
    port: int
    ip: str
    target: str
    url: str

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = {"http": 80, "https": 443}[self.scheme]
        return host if self.port == default else f"{host}:{self.port}"

    @property
    def connect_url(self) -> str:
        """The URL with the checked address in place of the name."""
        ip = f"[{self.ip}]" if ":" in self.ip else self.ip
        return f"{self.scheme}://{ip}:{self.port}{self.target}"

    @property
    def is_ip_literal(self) -> bool:
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return False
        return True


@functools.lru_cache(maxsize=256)
def _rules(entries: tuple[str, ...]) -> tuple[NetRule, ...]:
    return tuple(parse_rule(entry) for entry in entries)


def _where(parsed: ParsedURL) -> str:
    return parsed.netloc()


def check_url(policy: Policy, url: str) -> ParsedURL:
    """The parts of ``url`` if its host as written is allowed (no DNS yet)."""
    parsed = parse_url(url)
    deny = policy.deny_net
    if deny is True:
        raise SpellError("permission_denied", f'network access to "{_where(parsed)}" is denied by --deny-net')
    for rule in _rules(deny or ()):
        if rule.matches_name(parsed.host, parsed.port, parsed.scheme) or (
            parsed.ip is not None and rule.matches_ip(parsed.ip, parsed.port, parsed.scheme)
        ):
            raise SpellError("permission_denied",
                             f'network access to "{_where(parsed)}" is denied by --deny-net={rule.entry}')
    allow = policy.allow_net
    if allow is True:
        return parsed
    for rule in _rules(allow or ()):
        if rule.matches_name(parsed.host, parsed.port, parsed.scheme) or (
            parsed.ip is not None and rule.matches_ip(parsed.ip, parsed.port, parsed.scheme)
        ):
            return parsed
    where = _where(parsed)
    raise SpellError("permission_denied",
                     f'network access to "{where}" is not allowed; run with --allow-net={where}')


def _address_allowed(policy: Policy, parsed: ParsedURL, ip: IPAddress) -> str | None:
    """``None`` if the spell may connect to ``ip`` for this URL, else why not."""
    port, scheme = parsed.port, parsed.scheme
    deny = policy.deny_net
    for rule in _rules(deny if isinstance(deny, tuple) else ()):
        if rule.matches_ip(ip, port, scheme):
            return f"it is denied by --deny-net={rule.entry}"
    if not is_special(ip) or policy.allow_net is True:
        return None
    rules = _rules(policy.allow_net or ())
    if any(rule.matches_ip(ip, port, scheme) for rule in rules):
        return None
    if is_localhost_name(parsed.host) and ip.is_loopback and any(rule.matches_name(parsed.host, port, scheme)
                                                                 for rule in rules if not rule.wildcard):
        return None
    return "it is a private, loopback or otherwise non-public address"


def _pick(policy: Policy, parsed: ParsedURL, addresses: Iterable[IPAddress]) -> CheckedURL:
    reasons = []
    for ip in addresses:
        ip = canonical_ip(ip)
        reason = _address_allowed(policy, parsed, ip)
        if reason is None:
            return CheckedURL(parsed.scheme, parsed.host, parsed.port, str(ip), parsed.target, parsed.url)
        reasons.append((ip, reason))
    if not reasons:
        raise SpellError("not_found", f'could not resolve host "{parsed.host}"')
    ip, reason = reasons[0]
    grant = f"{ip}:{parsed.port}" if isinstance(ip, ipaddress.IPv4Address) else f"[{ip}]:{parsed.port}"
    raise SpellError("permission_denied",
                     f'network access to "{_where(parsed)}" is not allowed: it resolves to {ip} and {reason}',
                     hint=f"if that address is meant to be reachable, run with --allow-net={grant}")


def _literal_addresses(parsed: ParsedURL) -> list[IPAddress] | None:
    if parsed.ip is not None:
        return [parsed.ip]
    if is_localhost_name(parsed.host):  # never asks DNS what localhost is
        return [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
    return None


def _from_addrinfo(infos: list) -> list[IPAddress]:
    seen: dict[IPAddress, None] = {}
    for info in infos:
        text = info[4][0].split("%", 1)[0]
        seen.setdefault(canonical_ip(ipaddress.ip_address(text)), None)
    return list(seen)


def check_net(policy: Policy, url: str) -> CheckedURL:
    """Check ``url`` and resolve its host (blocking DNS lookup)."""
    parsed = check_url(policy, url)
    addresses = _literal_addresses(parsed)
    if addresses is None:
        try:
            infos = socket.getaddrinfo(parsed.host, parsed.port, type=socket.SOCK_STREAM)
        except OSError:
            raise SpellError("not_found", f'could not resolve host "{parsed.host}"') from None
        addresses = _from_addrinfo(infos)
    return _pick(policy, parsed, addresses)


async def check_net_async(policy: Policy, url: str) -> CheckedURL:
    """As :func:`check_net`, resolving on the event loop's resolver."""
    parsed = check_url(policy, url)
    addresses = _literal_addresses(parsed)
    if addresses is None:
        try:
            loop = asyncio.get_running_loop()
            infos = await loop.getaddrinfo(parsed.host, parsed.port, type=socket.SOCK_STREAM)
        except OSError:
            raise SpellError("not_found", f'could not resolve host "{parsed.host}"') from None
        addresses = _from_addrinfo(infos)
    return _pick(policy, parsed, addresses)


@dataclass(frozen=True)
class Response:
    """What came back: status, headers (lower-case names), decoded text, the final URL."""

    status: int
    headers: dict[str, str]
    text: str
    url: str
    content: bytes = b""


def _redirect_method(status: int, method: str) -> str:
    if status == 303 and method != "HEAD":
        return "GET"
    if status in (301, 302) and method == "POST":
        return "GET"
    return method


async def fetch(policy: Policy, url: str, *, method: str = "GET", headers: Mapping[str, str] | None = None,
                body: bytes | str | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
                timeout: float = DEFAULT_TIMEOUT, max_redirects: int = DEFAULT_MAX_REDIRECTS,
                verify: ssl.SSLContext | bool = True) -> Response:
    """One HTTP request, redirects followed and each hop checked by the policy.

    ``timeout`` bounds the whole exchange, redirects included; more than
    ``max_bytes`` of (decompressed) body is a ``limit_exceeded`` error.  Proxy
    variables of the host are ignored: the connection goes to the checked address.
    ``verify`` is for operators with a private CA (an ``ssl.SSLContext``); certificates
    are always checked against the URL's host name, not the address connected to."""
    method = method.upper()
    # Host is the checked name's; Accept-Encoding only what httpdecode can inflate under the cap.
    send_headers = {str(k): str(v) for k, v in (headers or {}).items()
                    if str(k).lower() not in ("host", "accept-encoding")}
    content = body.encode("utf-8") if isinstance(body, str) else body
    try:
        async with asyncio.timeout(timeout):
            current = url
            previous_origin: tuple[str, str, int] | None = None
            for _hop in range(max_redirects + 1):
                checked = await check_net_async(policy, current)
                origin = (checked.scheme, checked.host, checked.port)
                if previous_origin is not None and origin != previous_origin:
                    send_headers = {k: v for k, v in send_headers.items()
                                    if k.lower() in _CROSS_ORIGIN_HEADERS}
                previous_origin = origin
                status, response_headers, location, data = await _one_request(
                    checked, method, send_headers, content, max_bytes, timeout, verify)
                if status in _REDIRECTS and location:
                    current = urljoin(checked.url, location)
                    new_method = _redirect_method(status, method)
                    if new_method != method:
                        method, content = new_method, None
                    continue
                return Response(status, response_headers, _decode(data, response_headers), checked.url, data)
    except TimeoutError:
        raise SpellError("timeout", f"request to {url} took longer than {timeout:g}s") from None
    raise SpellError("tool_error", f"request to {url} was redirected more than {max_redirects} times")


async def _one_request(checked: CheckedURL, method: str, headers: dict[str, str], content: bytes | None,
                       max_bytes: int, timeout: float,
                       verify: ssl.SSLContext | bool) -> tuple[int, dict[str, str], str | None, bytes]:
    """One hop to the checked address, on the client of that origin at that address
    (:mod:`.httpclients`: reused connections, never shared between host names)."""
    import httpx  # here, not at import: only spells that fetch pay for it

    extensions = {} if checked.scheme == "http" or checked.is_ip_literal else {"sni_hostname": checked.host}
    try:
        client = client_for(checked.scheme, checked.host, checked.ip, checked.port, verify)
        request = client.build_request(method, checked.connect_url,
                                       headers={**headers, "Host": checked.host_header,
                                                "Accept-Encoding": ACCEPT_ENCODING},
                                       content=content, extensions=extensions, timeout=timeout)
        response = await client.send(request, stream=True)
        try:
            merged: dict[str, str] = {}
            for key, value in response.headers.multi_items():
                key = key.lower()
                merged[key] = f"{merged[key]}, {value}" if key in merged else value
            location = response.extensions.get(LOCATION)
            if response.status_code in _REDIRECTS and location is not None:
                return response.status_code, merged, location, b""
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise _too_large(checked.url, max_bytes)
            try:
                decoder = BoundedDecoder(merged.get("content-encoding", ""), max_bytes,
                                         lambda: _too_large(checked.url, max_bytes))
                async for chunk in response.aiter_raw():  # raw: httpx would inflate without a cap
                    decoder.feed(chunk)
            except DecodeError as exc:
                raise SpellError("tool_error", f"request to {checked.url} failed: {exc}") from None
            return response.status_code, merged, None, decoder.body()
        finally:
            await response.aclose()
    except httpx.TimeoutException:
        raise SpellError("timeout", f"request to {checked.url} timed out") from None
    except httpx.HTTPError as exc:
        reason = str(exc) or type(exc).__name__
        raise SpellError("tool_error", f"request to {checked.url} failed: {reason}") from None


def _too_large(url: str, max_bytes: int) -> SpellError:
    return SpellError("limit_exceeded",
                      f"the response from {url} is larger than the limit of {max_bytes} bytes")


def _decode(data: bytes, headers: Mapping[str, str]) -> str:
    charset = "utf-8"
    for param in headers.get("content-type", "").split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.lower() == "charset" and value:
            charset = value.strip('"').strip()
    try:
        return data.decode(charset, errors="replace")
    except LookupError:
        return data.decode("utf-8", errors="replace")
