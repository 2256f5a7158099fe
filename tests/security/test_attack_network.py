"""Every network trick against ``tools.http_get``: IP literals in every spelling,
private/loopback/link-local addresses, userinfo and fragment tricks, other
schemes, and redirects from an allowed server to a denied one.

Servers listen on 127.0.0.1 only and record every request: a denied server
must have received nothing, not merely have had its answer thrown away.
"""

from __future__ import annotations

import pytest
from tests.security.conftest import LANGS, expect_error

#: 127.0.0.1 (or another loopback / this-host address) written every way a resolver accepts.
LOOPBACK_SPELLINGS = [
    ("dotted", "127.0.0.1"),
    ("decimal", "2130706433"),
    ("hex", "0x7f000001"),
    ("hex_upper_dotted", "0X7F.0.0.1"),
    ("octal_dotted", "0177.0.0.1"),
    ("octal_padded", "0177.0000.0000.0001"),
    ("octal_whole", "017700000001"),
    ("short_two_parts", "127.1"),
    ("short_three_parts", "127.0.1"),
    ("short_hex", "0x7f.1"),
    ("trailing_dot", "127.0.0.1."),
    ("other_loopback", "127.0.0.2"),
    ("this_host_zero", "0.0.0.0"),
    ("zero_short", "0"),
    ("ipv4_mapped", "[::ffff:127.0.0.1]"),
    ("ipv4_mapped_hex", "[::ffff:7f00:1]"),
    ("ipv4_mapped_long", "[0:0:0:0:0:ffff:127.0.0.1]"),
    ("ipv4_compatible", "[::127.0.0.1]"),
    ("ipv6_loopback", "[::1]"),
    ("ipv6_unspecified", "[::]"),
    ("nat64", "[64:ff9b::7f00:1]"),
    ("6to4", "[2002:7f00:1::]"),
    ("localhost", "localhost"),
    ("localhost_upper", "LOCALHOST"),
    ("localhost_dot", "localhost."),
    ("sub_localhost", "evil.localhost"),
]


def _get(lang: str, url: str) -> str:
    return f'return tools.http_get("{url}").body' if lang == "lua" else \
        f'return (await tools.http_get("{url}")).body'


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("host", [s[1] for s in LOOPBACK_SPELLINGS], ids=[s[0] for s in LOOPBACK_SPELLINGS])
def test_loopback_in_any_spelling_is_denied(spell, recorder, lang, host):
    """Only 127.0.0.1:A is granted; every spelling of the denied port B is refused before connecting."""
    allowed, denied = recorder(), recorder()
    result = spell(lang, _get(lang, f"http://{host}:{denied.port}/steal"), f"--allow-net=127.0.0.1:{allowed.port}")
    expect_error(result, "permission_denied", contains="--allow-net=")
    assert denied.hits == [] and allowed.hits == []


@pytest.mark.parametrize("host", ["127.0.0.1", "2130706433", "0x7f000001", "0177.0.0.1", "127.1",
                                  "[::ffff:127.0.0.1]", "[::ffff:7f00:1]"])
def test_deny_wins_over_a_bare_allow_in_any_spelling(spell, recorder, host):
    denied = recorder()
    result = spell("lua", _get("lua", f"http://{host}:{denied.port}/"), "--allow-net", "--deny-net=127.0.0.1")
    expect_error(result, "permission_denied", contains="--deny-net=127.0.0.1")
    assert denied.hits == []


NON_PUBLIC = [
    ("private_10", "10.0.0.1"),
    ("private_172", "172.16.0.1"),
    ("private_192", "192.168.1.1"),
    ("cgnat", "100.64.0.1"),
    ("link_local", "169.254.1.1"),
    ("metadata", "169.254.169.254"),
    ("metadata_decimal", "2852039166"),
    ("metadata_mapped", "[::ffff:169.254.169.254]"),
    ("ipv6_link_local", "[fe80::1]"),
    ("ipv6_unique_local", "[fc00::1]"),
    ("multicast", "224.0.0.1"),
    ("broadcast", "255.255.255.255"),
]


@pytest.mark.parametrize("host", [s[1] for s in NON_PUBLIC], ids=[s[0] for s in NON_PUBLIC])
def test_private_and_link_local_addresses_are_denied_even_with_a_name_grant(spell, host):
    """A grant of names (``*.example.com``) never covers a non-public address literal."""
    result = spell("lua", _get("lua", f"http://{host}/latest/meta-data/"), "--allow-net=*.example.com,example.com")
    expect_error(result, "permission_denied", contains="--allow-net=")


@pytest.mark.parametrize("host", ["169.254.169.254", "2852039166", "0xa9fea9fe", "[::ffff:a9fe:a9fe]",
                                  "metadata.google.internal"])
def test_metadata_endpoint_denied_in_the_permissive_profile(spell, host):
    result = spell("js", _get("js", f"http://{host}/computeMetadata/v1/"), "--profile", "permissive")
    expect_error(result, "permission_denied", contains="--deny-net=")


URL_TRICKS = [
    ("userinfo_looks_allowed", "http://127.0.0.1:{A}@127.0.0.1:{B}/", "invalid_argument"),
    ("fragment_looks_allowed", "http://127.0.0.1:{B}#@127.0.0.1:{A}/", "permission_denied"),
    ("query_looks_allowed", "http://127.0.0.1:{B}?@127.0.0.1:{A}/", "permission_denied"),
    ("backslash_confusion", "http://127.0.0.1:{B}\\\\@127.0.0.1:{A}/", "invalid_argument"),
    ("whitespace_in_host", "http://127.0.0.1 :{B}/", "invalid_argument"),
    ("file_scheme", "file:///etc/passwd", "invalid_argument"),
    ("ftp_scheme", "ftp://127.0.0.1:{B}/", "invalid_argument"),
    ("gopher_scheme", "gopher://127.0.0.1:{B}/_GET", "invalid_argument"),
    ("data_scheme", "data:text/plain,hello", "invalid_argument"),
    ("scheme_relative", "//127.0.0.1:{B}/", "invalid_argument"),
]


@pytest.mark.parametrize("url,kind", [t[1:] for t in URL_TRICKS], ids=[t[0] for t in URL_TRICKS])
def test_url_tricks(spell, recorder, url, kind):
    allowed, denied = recorder(), recorder()
    url = url.format(A=allowed.port, B=denied.port)
    result = spell("lua", _get("lua", url), f"--allow-net=127.0.0.1:{allowed.port}")
    expect_error(result, kind)
    assert denied.hits == []


@pytest.mark.parametrize("lang", LANGS)
def test_allowed_server_is_reached(spell, recorder, lang):
    """The control case: the grant works, so the denials above are the policy's doing."""
    allowed = recorder()
    result = spell(lang, _get(lang, allowed.url("/ok")), f"--allow-net=127.0.0.1:{allowed.port}")
    assert result.code == 0, result.err
    assert result.out.strip() == f"hello from {allowed.port}"
    assert allowed.hits == ["/ok"]


REDIRECT_TARGETS = [
    ("dotted", "http://127.0.0.1:{B}/stolen"),
    ("decimal", "http://2130706433:{B}/stolen"),
    ("hex", "http://0x7f000001:{B}/stolen"),
    ("octal", "http://0177.0.0.1:{B}/stolen"),
    ("short", "http://127.1:{B}/stolen"),
    ("mapped", "http://[::ffff:127.0.0.1]:{B}/stolen"),
    ("localhost", "http://localhost:{B}/stolen"),
    ("metadata", "http://169.254.169.254/latest/meta-data/"),
]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_to_a_denied_address_is_rechecked(spell, recorder, lang, status):
    allowed, denied = recorder(), recorder()
    url = allowed.url(f"/redirect?status={status}&to=http://127.0.0.1:{denied.port}/stolen")
    result = spell(lang, _get(lang, url), f"--allow-net=127.0.0.1:{allowed.port}")
    expect_error(result, "permission_denied", contains="--allow-net=")
    assert len(allowed.hits) == 1 and allowed.hits[0].startswith("/redirect")
    assert denied.hits == []


@pytest.mark.parametrize("target", [t[1] for t in REDIRECT_TARGETS], ids=[t[0] for t in REDIRECT_TARGETS])
def test_redirect_to_any_spelling_of_a_denied_address_is_rechecked(spell, recorder, target):
    from urllib.parse import quote

    allowed, denied = recorder(), recorder()
    url = allowed.url("/redirect?to=" + quote(target.format(B=denied.port), safe=""))
    result = spell("js", _get("js", url), f"--allow-net=127.0.0.1:{allowed.port}")
    expect_error(result, "permission_denied")
    assert len(allowed.hits) == 1
    assert denied.hits == []


# -- an entry with a scheme is that scheme on one port, not the host on every port -------------------

ALL_LANGS = ("lua", "js", "tengo")


def _fetch(lang: str, url: str) -> str:
    if lang == "tengo":
        return f'x := tools.http_get("{url}")\nexport is_error(x) ? x : x.body\n'
    return _get(lang, url)


# (grant, url, allowed?) with {P} the recorder's port; the server speaks plain http only.
SCHEME_CASES = [
    ("scheme_no_port_is_the_default_port", "http://127.0.0.1", "http://127.0.0.1:{P}/", False),
    ("https_is_not_http", "https://127.0.0.1:{P}", "http://127.0.0.1:{P}/", False),
    ("https_default_port_is_not_this_port", "https://127.0.0.1", "http://127.0.0.1:{P}/", False),
    ("http_on_its_port", "http://127.0.0.1:{P}", "http://127.0.0.1:{P}/", True),
    ("upper_case_scheme_and_host", "HTTP://LOCALHOST:{P}", "http://localhost:{P}/", True),
    ("trailing_dot", "http://localhost.:{P}", "http://localhost:{P}/", True),
    ("trailing_dot_other_port", "http://localhost.", "http://localhost:{P}/", False),
    ("mapped_ipv6_literal", "http://[::ffff:127.0.0.1]:{P}", "http://127.0.0.1:{P}/", True),
    ("mapped_ipv6_hex", "http://[::ffff:7f00:1]:{P}", "http://127.0.0.1:{P}/", True),
    ("mapped_ipv6_no_port", "http://[::ffff:127.0.0.1]", "http://127.0.0.1:{P}/", False),
    ("url_written_other_spelling", "http://127.0.0.1:{P}", "http://0x7f000001:{P}/", True),
    ("bare_host_any_port", "127.0.0.1", "http://127.0.0.1:{P}/", True),
    ("host_port_that_port", "127.0.0.1:{P}", "http://127.0.0.1:{P}/", True),
]


@pytest.mark.parametrize("lang", ALL_LANGS)
@pytest.mark.parametrize("grant,url,allowed", [c[1:] for c in SCHEME_CASES], ids=[c[0] for c in SCHEME_CASES])
def test_a_scheme_entry_grants_one_scheme_on_one_port(spell, recorder, lang, grant, url, allowed):
    server = recorder()
    result = spell(lang, _fetch(lang, url.format(P=server.port)), f"--allow-net={grant.format(P=server.port)}")
    if allowed:
        assert result.code == 0, result.err
        assert result.out.strip() == f"hello from {server.port}" and len(server.hits) == 1
    else:
        expect_error(result, "permission_denied", contains="--allow-net=")
        assert server.hits == []


@pytest.mark.parametrize("lang", ALL_LANGS)
def test_an_https_request_to_an_http_grant_is_refused_before_connecting(spell, recorder, lang):
    """The other way around: an http:// entry does not grant https on the same port
    (before, the request went out and failed in the TLS handshake)."""
    server = recorder()
    result = spell(lang, _fetch(lang, f"https://127.0.0.1:{server.port}/"), f"--allow-net=http://127.0.0.1:{server.port}")
    expect_error(result, "permission_denied")


@pytest.mark.parametrize("lang", ALL_LANGS)
@pytest.mark.parametrize("target", ["https://127.0.0.1:{A}/", "http://127.0.0.1:{B}/", "http://localhost:{A}/"],
                         ids=["other_scheme", "other_port", "other_name"])
def test_a_redirect_leaves_a_scheme_grant_only_where_it_is_granted(spell, recorder, lang, target):
    from urllib.parse import quote

    first, second = recorder(), recorder()
    to = quote(target.format(A=first.port, B=second.port), safe="")
    result = spell(lang, _fetch(lang, first.url(f"/redirect?to={to}")), f"--allow-net=http://127.0.0.1:{first.port}")
    expect_error(result, "permission_denied")
    assert len(first.hits) == 1 and second.hits == []


def test_a_scheme_deny_entry_denies_that_origin(spell, recorder):
    server = recorder()
    result = spell("lua", _get("lua", server.url("/")), "--allow-net", f"--deny-net=http://127.0.0.1:{server.port}")
    expect_error(result, "permission_denied", contains="--deny-net=")
    assert server.hits == []
