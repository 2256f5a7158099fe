"""Network checks (every spelling of an address) and fetch against local servers."""

from __future__ import annotations

import asyncio
import ipaddress
import shutil
import socket
import ssl
import subprocess

import httpx
import pytest

from llmspell.errors import SpellError
from llmspell.sandbox import Policy, check_net_async, fetch
from llmspell.sandbox.netaddr import normalize_host, parse_rule, parse_url

LOOPBACK_SPELLINGS = ["127.0.0.1", "2130706433", "0x7f000001", "0X7F000001", "0177.0.0.1", "0177.0.0.01",
                      "127.1", "127.0.1", "0x7f.1", "127.0.0.1.", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]"]


def run(coro):
    return asyncio.run(coro)


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
def test_every_spelling_of_loopback_normalises_to_it(host):
    assert normalize_host(host) == ("127.0.0.1", ipaddress.IPv4Address("127.0.0.1"))


@pytest.mark.parametrize("host", ["1.2.3.999", "256.0.0.1.", "0x1.0x2.0x3.0x4.5", "09.1.1.1", "1.2.3.4.5",
                                  "4294967296", "[::1", "[nope]", "bad host", "a..b", "-"])
def test_malformed_hosts_are_errors(host):
    with pytest.raises(SpellError) as excinfo:
        normalize_host(host)
    assert excinfo.value.kind == "invalid_argument"


def test_names_are_normalised():
    assert normalize_host("Example.COM.") == ("example.com", None)
    assert normalize_host("Bücher.de") == ("xn--bcher-kva.de", None)
    assert normalize_host("[::1]") == ("::1", ipaddress.IPv6Address("::1"))


@pytest.mark.parametrize("url", ["ftp://example.com/", "file:///etc/passwd", "http://user:pw@example.com/",
                                 "http://exa mple.com/", "http://example.com\\@evil.com/", "//example.com/",
                                 "http://example.com:0/", "http://example.com:x/", "gopher://127.0.0.1/"])
def test_malformed_or_unsupported_urls(url):
    with pytest.raises(SpellError) as excinfo:
        Policy(allow_net=True).check_net(url)
    assert excinfo.value.kind == "invalid_argument"


def test_parse_url_keeps_path_and_query():
    parsed = parse_url("HTTPS://Example.com/a/b?x=1#frag")
    assert (parsed.scheme, parsed.host, parsed.port, parsed.target) == ("https", "example.com", 443, "/a/b?x=1")


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS + ["localhost", "LOCALHOST.", "[::1]", "0.0.0.0", "0",
                                                       "10.1.2.3", "192.168.0.1", "169.254.169.254", "224.0.0.1",
                                                       "[fe80::1]", "[::]", "[2002:7f00:1::]",
                                                       "[64:ff9b::7f00:1]", "[fc00::1]", "100.64.0.1"])
def test_local_and_private_addresses_are_denied_even_with_wildcard_names(host):
    policy = Policy(allow_net=("*.example.com", "example.com"))
    with pytest.raises(SpellError) as excinfo:
        policy.check_net(f"http://{host}:8080/")
    assert excinfo.value.kind == "permission_denied"


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
def test_allowing_the_address_and_port_allows_every_spelling(host):
    checked = Policy(allow_net=("127.0.0.1:8080",)).check_net(f"http://{host}:8080/x?y=1")
    assert (checked.ip, checked.port, checked.target) == ("127.0.0.1", 8080, "/x?y=1")
    with pytest.raises(SpellError) as excinfo:
        Policy(allow_net=("127.0.0.1:8080",)).check_net(f"http://{host}:8081/")
    assert "--allow-net=127.0.0.1:8081" in excinfo.value.message


def test_localhost_grant_allows_localhost_only_by_name():
    checked = Policy(allow_net=("localhost",)).check_net("http://localhost:1234/")
    assert checked.ip == "127.0.0.1" and checked.host == "localhost"
    with pytest.raises(SpellError):
        Policy(allow_net=("localhost",)).check_net("http://127.0.0.1:1234/")
    with pytest.raises(SpellError):
        Policy(allow_net=("127.0.0.1",)).check_net("http://localhost:1234/")


def test_networks_and_bare_allow_net():
    assert Policy(allow_net=("10.0.0.0/8",)).check_net("http://10.9.8.7/").ip == "10.9.8.7"
    assert Policy(allow_net=True).check_net("http://0x7f000001:99/").ip == "127.0.0.1"
    with pytest.raises(SpellError) as excinfo:
        Policy(allow_net=True, deny_net=("127.0.0.0/8",)).check_net("http://127.1/")
    assert "--deny-net=127.0.0.0/8" in excinfo.value.message


def test_rules():
    assert parse_rule("Example.com:443").host == "example.com"
    assert parse_rule("[::1]:80").port == 80
    assert parse_rule("::1").network == ipaddress.ip_network("::1/128")
    assert parse_rule("*.example.com").matches_name("api.example.com", 443)
    assert not parse_rule("*.example.com").matches_name("example.com", 443)
    assert not parse_rule("*.example.com").matches_name("evilexample.com", 443)
    assert parse_rule("https://api.example.com:8443").port == 8443
    assert parse_rule("https://api.example.com:8443/").scheme == "https"


@pytest.fixture
def fake_dns(monkeypatch):
    """Names -> addresses for this test; numeric hosts still go to the real resolver."""
    table: dict[str, list[str]] = {}
    lookups: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        try:
            ipaddress.ip_address(host)
        except ValueError:
            lookups.append(host)
            if host not in table:
                raise socket.gaierror(socket.EAI_NONAME, "unknown") from None
            return [(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                     (ip, port)) for ip in table[host]]
        return real(host, port, family, type, proto, flags)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table, lookups


def test_a_public_name_resolving_to_a_private_address_is_denied(fake_dns):
    table, _ = fake_dns
    table["api.example.com"] = ["10.0.0.5"]
    policy = Policy(allow_net=("api.example.com",))
    with pytest.raises(SpellError) as excinfo:
        policy.check_net("https://api.example.com/")
    assert "10.0.0.5" in excinfo.value.message and excinfo.value.kind == "permission_denied"
    with pytest.raises(SpellError):
        run(check_net_async(policy, "https://api.example.com/"))
    assert Policy(allow_net=("api.example.com", "10.0.0.5")).check_net("https://api.example.com/").ip == "10.0.0.5"


def test_public_addresses_are_used_and_a_private_one_is_skipped(fake_dns):
    table, _ = fake_dns
    table["mixed.example.com"] = ["::ffff:192.168.1.1", "93.184.216.34"]
    checked = run(check_net_async(Policy(allow_net=("mixed.example.com",)), "http://mixed.example.com/"))
    assert checked.ip == "93.184.216.34"
    assert checked.connect_url == "http://93.184.216.34:80/"
    assert checked.host_header == "mixed.example.com"


def test_unresolvable_names_are_not_found(fake_dns):
    with pytest.raises(SpellError) as excinfo:
        Policy(allow_net=("nowhere.invalid",)).check_net("http://nowhere.invalid/")
    assert excinfo.value.kind == "not_found"


# -- fetch against local servers -------------------------------------------------

def test_fetch_allowed(server):
    policy = Policy(allow_net=(f"127.0.0.1:{server.port}",))
    response = run(fetch(policy, server.url("/hello?x=1")))
    assert response.status == 200
    assert response.text == "hello from /hello"
    assert response.headers["x-test"] == "yes"
    assert server.hosts == [f"127.0.0.1:{server.port}"]


def test_fetch_denied_before_any_connection(server):
    with pytest.raises(SpellError) as excinfo:
        run(fetch(Policy(), server.url()))
    assert excinfo.value.kind == "permission_denied"
    assert server.hits == []


def test_fetch_connects_to_the_checked_address_and_sends_the_name(server, fake_dns):
    table, lookups = fake_dns
    table["svc.test"] = ["127.0.0.1"]
    policy = Policy(allow_net=(f"svc.test:{server.port}", f"127.0.0.1:{server.port}"))
    response = run(fetch(policy, f"http://svc.test:{server.port}/named"))
    assert response.text == "hello from /named"
    assert server.hosts == [f"svc.test:{server.port}"]
    assert lookups == ["svc.test"]  # resolved once, by the check; the connection used that answer


def test_redirect_to_a_denied_address_is_refused_at_the_redirect(make_server):
    allowed, forbidden = make_server(), make_server()
    policy = Policy(allow_net=(f"127.0.0.1:{allowed.port}",))
    for target, kind in ((forbidden.url("/steal"), "permission_denied"),
                         (f"http://0x7f000001:{forbidden.port}/steal", "permission_denied"),
                         (f"http://127.0.0.2:{allowed.port}/", "permission_denied"),
                         ("http://169.254.169.254/latest/meta-data", "permission_denied"),
                         ("file:///etc/passwd", "invalid_argument")):
        with pytest.raises(SpellError) as excinfo:
            run(fetch(policy, allowed.url(f"/redirect?to={target}")))
        assert excinfo.value.kind == kind, (target, excinfo.value)
    assert forbidden.hits == []


def test_allowed_redirects_are_followed(server):
    policy = Policy(allow_net=(f"127.0.0.1:{server.port}",))
    response = run(fetch(policy, server.url("/redirect?to=/final&status=307")))
    assert response.text == "hello from /final"
    assert response.url == server.url("/final")
    assert server.hits == ["/redirect", "/final"]


def test_redirect_loops_are_cut(server):
    policy = Policy(allow_net=(f"127.0.0.1:{server.port}",))
    with pytest.raises(SpellError) as excinfo:
        run(fetch(policy, server.url("/redirect?to=/redirect%3Fto%3D/x"), max_redirects=0))
    assert excinfo.value.kind == "tool_error"


@pytest.mark.parametrize("path", ["/big?n=5000", "/chunked?chunks=4", "/gzip-bomb?n=2000000"])
def test_response_size_is_capped(server, path):
    policy = Policy(allow_net=(f"127.0.0.1:{server.port}",))
    with pytest.raises(SpellError) as excinfo:
        run(fetch(policy, server.url(path), max_bytes=4096))
    assert excinfo.value.kind == "limit_exceeded"
    assert len(run(fetch(policy, server.url("/big?n=4096"), max_bytes=4096)).content) == 4096


def test_response_time_is_capped(server):
    policy = Policy(allow_net=(f"127.0.0.1:{server.port}",))
    with pytest.raises(SpellError) as excinfo:
        run(fetch(policy, server.url("/slow"), timeout=0.2))
    assert excinfo.value.kind == "timeout"


def test_connection_refused_is_a_tool_error():
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(SpellError) as excinfo:
        run(fetch(Policy(allow_net=(f"127.0.0.1:{port}",)), f"http://127.0.0.1:{port}/"))
    assert excinfo.value.kind == "tool_error"


def test_charset_is_honoured(server):
    policy = Policy(allow_net=(f"127.0.0.1:{server.port}",))
    assert run(fetch(policy, server.url("/latin1"))).text == "café"


# -- https: the name goes in SNI and the certificate check, the checked address gets the connection ----------

def _openssl(*args: str, cwd) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def tls_files(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate authority")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1",
             "-subj", "/CN=llmspell test CA", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign", cwd=tmp_path)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr",
             "-subj", "/CN=svc.test", cwd=tmp_path)
    (tmp_path / "ext.cnf").write_text("subjectAltName=DNS:svc.test\n")
    _openssl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "leaf.pem", "-days", "1", "-extfile", "ext.cnf", cwd=tmp_path)
    return tmp_path


def test_https_uses_the_name_for_sni_and_certificates(make_server, fake_dns, tls_files):
    seen_sni: list[str] = []
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(tls_files / "leaf.pem", tls_files / "leaf.key")
    server_ctx.sni_callback = lambda sock, name, ctx: seen_sni.append(name)
    tls_server = make_server(server_ctx)
    table, _ = fake_dns
    table["svc.test"] = ["127.0.0.1"]
    table["other.test"] = ["127.0.0.1"]
    client_ctx = ssl.create_default_context(cafile=str(tls_files / "ca.pem"))
    port = tls_server.port
    policy = Policy(allow_net=(f"svc.test:{port}", f"other.test:{port}", f"127.0.0.1:{port}"))
    response = run(fetch(policy, f"https://svc.test:{port}/secure", verify=client_ctx))
    assert response.text == "hello from /secure"
    assert seen_sni == ["svc.test"]
    assert tls_server.hosts == [f"svc.test:{port}"]
    # Same address, another name: the certificate is checked against the name, so this fails.
    with pytest.raises(SpellError) as excinfo:
        run(fetch(policy, f"https://other.test:{port}/secure", verify=client_ctx))
    assert excinfo.value.kind == "tool_error"
    assert tls_server.hits == ["/secure"]


def test_credentials_do_not_follow_a_redirect_to_another_origin(make_server, monkeypatch):
    first, second = make_server(), make_server()
    seen: list[dict] = []
    original = httpx.AsyncClient.send

    async def spy(self, request, **kwargs):
        seen.append({k.lower(): v for k, v in request.headers.items()})
        return await original(self, request, **kwargs)

    monkeypatch.setattr(httpx.AsyncClient, "send", spy)
    policy = Policy(allow_net=(f"127.0.0.1:{first.port}", f"127.0.0.1:{second.port}"))
    headers = {"Authorization": "Bearer s3cret", "X-Api-Key": "k", "Accept": "text/plain"}
    run(fetch(policy, first.url(f"/redirect?to={second.url('/landing')}"), headers=headers))
    assert seen[0]["authorization"] == "Bearer s3cret" and seen[0]["x-api-key"] == "k"
    assert "authorization" not in seen[1] and "x-api-key" not in seen[1]
    assert seen[1]["accept"] == "text/plain"
    assert second.hits == ["/landing"]


def test_a_scheme_entry_is_that_scheme_on_one_port():
    https = parse_rule("https://Example.COM.")
    assert (https.host, https.port, https.scheme) == ("example.com", 443, "https")
    assert https.matches_name("example.com", 443, "https")
    assert not https.matches_name("example.com", 443, "http")
    assert not https.matches_name("example.com", 8443, "https")
    assert not https.matches_name("example.com", 80, "http")
    assert parse_rule("http://example.com:8080").matches_name("example.com", 8080, "http")
    assert not parse_rule("http://example.com:8080").matches_name("example.com", 8080, "https")
    v6 = parse_rule("https://[::ffff:127.0.0.1]")
    assert v6.matches_ip(ipaddress.ip_address("127.0.0.1"), 443, "https")
    assert not v6.matches_ip(ipaddress.ip_address("127.0.0.1"), 444, "https")
    assert parse_rule("example.com").matches_name("example.com", 1234, "http")  # bare: any port, any scheme
    assert parse_rule("example.com:99").matches_name("example.com", 99, "https")


@pytest.mark.parametrize("entry", ["https://example.com/api", "https://example.com?x", "https://u@example.com",
                                   "ftp://example.com", "https://", "https://::1", "http://10.0.0.0/8",
                                   "example.com:"])
def test_a_scheme_entry_names_an_origin_only(entry):
    with pytest.raises(SpellError) as excinfo:
        parse_rule(entry)
    assert excinfo.value.kind == "invalid_argument"


def test_a_scheme_policy_checks_the_scheme_and_port():
    policy = Policy(allow_net=("https://127.0.0.1:8443",))
    assert policy.check_net("https://127.0.0.1:8443/").ip == "127.0.0.1"
    for url in ("http://127.0.0.1:8443/", "https://127.0.0.1/", "http://127.0.0.1/"):
        with pytest.raises(SpellError):
            policy.check_net(url)


@pytest.mark.parametrize("entry", ["https://example.com/api", "ftp://example.com", "https://u@example.com"])
def test_a_flag_entry_with_a_path_or_other_scheme_is_a_usage_error(entry, capsys):
    import argparse

    from llmspell.sandbox import add_policy_arguments

    parser = add_policy_arguments(argparse.ArgumentParser(prog="llmspell"))
    parser.add_argument("spell")
    with pytest.raises(SystemExit) as excinfo:
        parser.parse_args([f"--allow-net={entry}", "s.lua"])
    assert excinfo.value.code == 2 and entry in capsys.readouterr().err


def test_max_prompt_flag_and_profiles():
    import argparse

    from llmspell.sandbox import add_policy_arguments, policy_from_args

    parser = add_policy_arguments(argparse.ArgumentParser(prog="llmspell"))
    parser.add_argument("spell")
    assert policy_from_args(parser.parse_args(["--max-prompt", "64KiB", "s.lua"])).max_prompt == 64 * 1024
    assert Policy().max_prompt == 4 * 1024 * 1024
    assert Policy.profile("strict").max_prompt == 256 * 1024
    assert Policy.profile("permissive").max_prompt == 32 * 1024 * 1024
    assert Policy.from_config({"max_prompt": "1MB"}).max_prompt == 1_000_000
    assert Policy.from_config({"max_prompt": "unlimited"}).max_prompt is None
