"""Host names, IP literals and URLs in one canonical form, so that a check
cannot be dodged by spelling an address differently.

``127.0.0.1`` can also be written ``2130706433``, ``0x7f000001``,
``0177.0.0.1``, ``127.1`` or ``[::ffff:127.0.0.1]``; the C resolver and
browsers accept all of them.  They are parsed here the way the WHATWG URL
standard parses IPv4 hosts (the same forms ``inet_aton`` accepts) and turned
into one address before any rule sees them.  Names are lower-cased, lose a
trailing dot and are IDNA-encoded.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import idna

from llmspell.errors import SpellError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_ASCII_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_BAD_URL_CHARS = re.compile(r"[\x00-\x20\x7f\\]")


def _bad(message: str) -> SpellError:
    return SpellError("invalid_argument", message)


def _ipv4_number(part: str) -> int | None:
    """One part of a WHATWG IPv4 host: decimal, 0x-hex or 0-octal; None if not a number."""
    if part[:2] in ("0x", "0X"):
        digits = part[2:]
        if not digits:
            return 0
        return int(digits, 16) if all(c in "0123456789abcdefABCDEF" for c in digits) else None
    if not part.isascii() or not part.isdigit():
        return None
    if len(part) > 1 and part[0] == "0":
        return int(part, 8) if all(c in "01234567" for c in part) else None
    return int(part)


def parse_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The address of a host written as an IPv4 number in any WHATWG form, or
    ``None`` if the host is a name.  A host that *ends* in a number but is not a
    valid address (``1.2.3.999``) is an error, as in browsers."""
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    last = parts[-1]
    if last == "" or _ipv4_number(last) is None:
        return None
    numbers = [_ipv4_number(part) if part else None for part in parts]
    if len(parts) > 4 or any(n is None for n in numbers):
        raise _bad(f'"{host}" is not a valid IPv4 address')
    *head, tail = numbers
    if any(n > 255 for n in head) or tail >= 256 ** (5 - len(numbers)):
        raise _bad(f'"{host}" is not a valid IPv4 address')
    value = tail
    for index, n in enumerate(head):
        value += n << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def canonical_ip(ip: IPAddress) -> IPAddress:
    """IPv4-mapped IPv6 (``::ffff:a.b.c.d``) is the IPv4 address it maps."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def normalize_host(raw: str) -> tuple[str, IPAddress | None]:
    """``(canonical host text, address if the host is an IP literal)``.

    Accepts ``[v6]`` and (for rule entries) bare IPv6 text.  Raises
    ``invalid_argument`` for what is neither an address nor a valid name."""
    if not raw:
        raise _bad("empty host")
    if raw.startswith("[") or raw.endswith("]"):
        if not (raw.startswith("[") and raw.endswith("]")):
            raise _bad(f'"{raw}" is not a valid host')
        try:
            ip = canonical_ip(ipaddress.IPv6Address(raw[1:-1]))
        except ValueError:
            raise _bad(f'"{raw}" is not a valid IPv6 address') from None
        return str(ip), ip
    if ":" in raw:
        try:
            ip = canonical_ip(ipaddress.IPv6Address(raw))
        except ValueError:
            raise _bad(f'"{raw}" is not a valid host') from None
        return str(ip), ip
    host = raw.lower()
    if host.endswith(".") and not host.endswith(".."):
        host = host[:-1]
    ipv4 = parse_ipv4(host)
    if ipv4 is not None:
        return str(ipv4), ipv4
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise _bad(f'"{raw}" is not a valid host name: {exc}') from None
    if not _ASCII_NAME.fullmatch(host) or len(host) > 253:
        raise _bad(f'"{raw}" is not a valid host name')
    return host, None


def is_special(ip: IPAddress) -> bool:
    """Loopback, private, link-local, multicast, unspecified, reserved or
    otherwise not globally routable: never reached unless granted by address."""
    ip = canonical_ip(ip)
    if isinstance(ip, ipaddress.IPv6Address):  # tunnels that embed an IPv4 address route to it
        embedded = ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and is_special(embedded):
            return True
    return (not ip.is_global or ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
            or ip.is_unspecified or ip.is_reserved)


def is_localhost_name(host: str) -> bool:
    """``localhost`` and its subdomains, which always mean this machine (RFC 6761)."""
    return host == "localhost" or host.endswith(".localhost")


@dataclass(frozen=True)
class ParsedURL:
    """An http(s) URL taken apart into canonical pieces."""

    scheme: str
    host: str
    port: int
    ip: IPAddress | None
    target: str  # path and query, never empty

    @property
    def default_port(self) -> bool:
        return DEFAULT_PORTS[self.scheme] == self.port

    def netloc(self, host: str | None = None) -> str:
        host = host or self.host
        if ":" in host:
            host = f"[{host}]"
        return host if self.default_port else f"{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.netloc()}{self.target}"


def split_host_port(netloc: str) -> tuple[str, str | None]:
    """``host`` / ``host:port`` / ``[v6]:port`` -> (host text, port text or None)."""
    if netloc.startswith("["):
        end = netloc.find("]")
        if end < 0:
            raise _bad(f'"{netloc}" has an unclosed "["')
        rest = netloc[end + 1:]
        if rest and not rest.startswith(":"):
            raise _bad(f'"{netloc}" is not a valid host')
        return netloc[: end + 1], (rest[1:] if rest else None)
    if netloc.count(":") == 1:
        host, port = netloc.split(":")
        return host, port
    return netloc, None


def parse_port(text: str, where: str) -> int:
    if not text.isascii() or not text.isdigit() or not 0 < int(text) < 65536:
        raise _bad(f'"{where}" has an invalid port "{text}"')
    return int(text)


def parse_url(url: str) -> ParsedURL:
    """Parse an absolute http or https URL strictly: no credentials, no
    whitespace, control characters or backslashes (which parsers disagree on)."""
    if not isinstance(url, str):
        raise _bad(f"a URL must be a string, got {type(url).__name__}")
    if _BAD_URL_CHARS.search(url):
        raise _bad(f"{url!r} contains whitespace, control characters or backslashes")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise _bad(f"{url!r} is not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise _bad(f"only http and https URLs can be fetched, not {url!r}")
    if "@" in parts.netloc:
        raise _bad("URLs with a user name or password are not supported; send credentials in a header")
    host_text, port_text = split_host_port(parts.netloc)
    host, ip = normalize_host(host_text)
    port = DEFAULT_PORTS[scheme] if port_text in (None, "") else parse_port(port_text, url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return ParsedURL(scheme, host, port, ip, target)


@dataclass(frozen=True)
class NetRule:
    """One ``--allow-net``/``--deny-net`` entry: a name (``*.`` = any subdomain),
    an address or a network, with an optional port and scheme.

    What an entry covers (as in Deno, plus schemes):

    - ``host`` (or an address, or a network): every port, both schemes;
    - ``host:port``: that port only, both schemes;
    - ``scheme://host``: that scheme on its default port only (``https://h`` is
      ``h`` over https on 443, not ``http://h:80`` nor ``https://h:8443``);
    - ``scheme://host:port``: that scheme on that port only.
    """

    entry: str
    host: str | None = None
    wildcard: bool = False
    network: IPNetwork | None = None
    port: int | None = None
    #: ``http`` or ``https`` when the entry was written as a URL; ``None`` = both.
    scheme: str | None = None

    def _port_ok(self, port: int, scheme: str | None) -> bool:
        if self.port is not None and self.port != port:
            return False
        return self.scheme is None or self.scheme == scheme

    def matches_name(self, host: str, port: int, scheme: str | None = None) -> bool:
        if not self._port_ok(port, scheme):
            return False
        if self.wildcard:
            return host.endswith("." + self.host)
        return self.host == host

    def matches_ip(self, ip: IPAddress, port: int, scheme: str | None = None) -> bool:
        if not self._port_ok(port, scheme):
            return False
        return self.network is not None and canonical_ip(ip) in self.network


def _split_scheme(entry: str, text: str) -> tuple[str | None, str]:
    """``(scheme, host[:port])`` of an entry written as a URL; ``(None, text)`` otherwise.
    A URL entry names an origin: a path, query, fragment or credentials would
    suggest a narrower grant than the one given, so they are refused."""
    if "://" not in text:
        return None, text
    scheme, rest = text.split("://", 1)
    scheme = scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise _bad(f'"{entry}": only http:// and https:// entries are supported')
    netloc, sep, path = rest.partition("/")
    if (sep and path) or any(c in netloc for c in "?#@"):
        raise _bad(f'"{entry}": a network entry names a host (and port), not a path, query or user; '
                   f"use {scheme}://{netloc.split('?')[0].split('#')[0].rpartition('@')[2]}")
    if not netloc:
        raise _bad(f'"{entry}" has no host')
    return scheme, netloc


def parse_rule(entry: str) -> NetRule:
    """Parse ``host``, ``host:port``, ``*.example.com``, ``10.0.0.0/8``,
    ``[::1]:8080``, ``::1``, or an origin ``scheme://host[:port]`` (see :class:`NetRule`)."""
    scheme, text = _split_scheme(entry, entry.strip())
    if "/" in text:
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise _bad(f'"{entry}" is not a valid network') from None
        if isinstance(network, ipaddress.IPv6Network) and network.network_address.ipv4_mapped is not None \
                and network.prefixlen >= 96:
            network = ipaddress.IPv4Network((network.network_address.ipv4_mapped, network.prefixlen - 96))
        return NetRule(entry, network=network)
    if text.count(":") > 1 and not text.startswith("["):
        if scheme is not None:  # in a URL an IPv6 address needs its brackets, as in any URL
            raise _bad(f'"{entry}": write an IPv6 address in a URL in brackets, e.g. {scheme}://[::1]:8080')
        host_text, port_text = text, None
    else:
        host_text, port_text = split_host_port(text)
    if port_text is not None and port_text == "" and scheme is None:
        raise _bad(f'"{entry}" has an empty port')
    port = parse_port(port_text, entry) if port_text else None
    if scheme is not None and port is None:
        port = DEFAULT_PORTS[scheme]
    wildcard = host_text.startswith("*.")
    host, ip = normalize_host(host_text[2:] if wildcard else host_text)
    network = ipaddress.ip_network(ip) if ip is not None else None
    return NetRule(entry, host=host, wildcard=wildcard and ip is None, network=network, port=port,
                   scheme=scheme)
