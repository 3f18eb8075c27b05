"""Who the client is: the TCP peer, or behind trusted proxies the hop they appended."""

import ast
import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory, override_settings

from feedback.addresses import client_address, parse_trusted_proxies
from tests.conftest import ROOT

NGINX = "10.0.0.2"


def address_of(remote_addr: str, forwarded: str | None = None) -> str:
    headers = {} if forwarded is None else {"HTTP_X_FORWARDED_FOR": forwarded}
    return client_address(RequestFactory().get("/", REMOTE_ADDR=remote_addr, **headers))


@override_settings(TRUSTED_PROXIES=())
def test_with_no_trusted_proxy_the_peer_is_the_client_whatever_it_claims():
    assert address_of("203.0.113.9", "198.51.100.1") == "203.0.113.9"
    assert address_of("203.0.113.9", "10.0.0.2, 198.51.100.1") == "203.0.113.9"


@override_settings(TRUSTED_PROXIES=parse_trusted_proxies(NGINX))
def test_an_untrusted_peer_cannot_borrow_an_address_by_header():
    # A client connecting directly, claiming to come through the proxy.
    assert address_of("203.0.113.9", f"198.51.100.1, {NGINX}") == "203.0.113.9"


@override_settings(TRUSTED_PROXIES=parse_trusted_proxies(NGINX))
def test_behind_the_trusted_proxy_the_hop_it_appended_is_the_client():
    assert address_of(NGINX, "198.51.100.1") == "198.51.100.1"
    # Without a header the proxy itself is the only address there is.
    assert address_of(NGINX) == NGINX
    assert address_of(NGINX, "  ") == NGINX


@override_settings(TRUSTED_PROXIES=parse_trusted_proxies(NGINX))
def test_hops_the_client_wrote_left_of_the_proxy_hop_are_ignored():
    # nginx keeps what the client sent and appends the address it saw.
    assert address_of(NGINX, "1.2.3.4, 5.6.7.8, 198.51.100.1") == "198.51.100.1"
    # Even a forged hop that names a trusted proxy does not help: it is left of the real one.
    assert address_of(NGINX, f"{NGINX}, 198.51.100.1") == "198.51.100.1"


@override_settings(TRUSTED_PROXIES=parse_trusted_proxies("10.0.0.0/8, 192.0.2.7"))
def test_a_chain_of_trusted_proxies_is_walked_from_the_right():
    # client → CDN edge (192.0.2.7) → load balancer (10.1.0.5) → nginx (10.0.0.2)
    assert address_of(NGINX, "6.6.6.6, 198.51.100.1, 192.0.2.7, 10.1.0.5") == "198.51.100.1"
    # A hop outside the trusted list stops the walk even with trusted ones further left.
    assert address_of(NGINX, "10.9.9.9, 198.51.100.1, 10.1.0.5") == "198.51.100.1"
    # Every hop trusted: the request came from inside; the leftmost is the client.
    assert address_of(NGINX, "10.3.3.3, 10.1.0.5") == "10.3.3.3"


@override_settings(TRUSTED_PROXIES=parse_trusted_proxies("10.0.0.0/8"))
def test_a_malformed_hop_stops_the_walk_at_the_proxy_that_passed_it_on():
    assert address_of(NGINX, "198.51.100.1, not-an-ip") == NGINX
    assert address_of(NGINX, "198.51.100.1, unknown, 10.1.0.5") == "10.1.0.5"
    assert address_of(NGINX, "198.51.100.1,,10.1.0.5") == "10.1.0.5"
    # nginx does not add ports; an address with a port is not taken at its word.
    assert address_of(NGINX, "198.51.100.1:4711") == NGINX
    # Whatever sits left of the malformed hop is never chosen.
    assert {address_of(NGINX, f"198.51.100.{n}, garbage") for n in range(5)} == {NGINX}


@override_settings(TRUSTED_PROXIES=parse_trusted_proxies("::1, fd00::/8"))
def test_ipv6_peers_and_hops_bare_or_bracketed():
    assert address_of("::1", "2001:db8::7") == "2001:db8::7"
    assert address_of("::1", "[2001:db8::7]") == "2001:db8::7"
    assert address_of("::1", "2001:db8::9, [fd00::5]") == "2001:db8::9"
    assert address_of("::1", "198.51.100.1, fd12::1") == "198.51.100.1"
    # One address, one spelling: upper case and zero runs do not make a new client.
    assert address_of("2001:DB8:0:0::7") == "2001:db8::7"
    # An untrusted IPv6 peer is the client.
    assert address_of("2001:db8::1", "198.51.100.1") == "2001:db8::1"


@override_settings(TRUSTED_PROXIES=parse_trusted_proxies("10.0.0.0/8"))
def test_an_ipv4_peer_seen_through_a_dual_stack_socket_is_matched_as_ipv4():
    assert address_of(f"::ffff:{NGINX}", "198.51.100.1") == "198.51.100.1"
    assert address_of("::ffff:203.0.113.9", "198.51.100.1") == "203.0.113.9"


def test_the_setting_is_parsed_into_networks_and_a_bad_entry_is_named():
    assert [str(n) for n in parse_trusted_proxies(" 10.0.0.0/8 ,192.0.2.7,, ::1 ")] == [
        "10.0.0.0/8",
        "192.0.2.7/32",
        "::1/128",
    ]
    assert parse_trusted_proxies("") == ()
    with pytest.raises(ImproperlyConfigured, match="'nginx'"):
        parse_trusted_proxies("10.0.0.2,nginx")
    # Host bits set is a typo, not a wish to trust a /8.
    with pytest.raises(ImproperlyConfigured, match="'10.0.0.2/8'"):
        parse_trusted_proxies("10.0.0.2/8")


def _load_settings(trusted_proxies: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - fixed argv
        [
            sys.executable,
            "-c",
            "from django.conf import settings; print(settings.TRUSTED_PROXIES)",
        ],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", "TRUSTED_PROXIES": trusted_proxies},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_environment_variable_is_parsed_at_start_and_a_typo_stops_the_start():
    loaded = _load_settings("172.18.0.0/16, 10.0.0.2")
    assert loaded.returncode == 0, loaded.stderr
    assert "IPv4Network('172.18.0.0/16')" in loaded.stdout and "IPv4Network('10.0.0.2/32')" in loaded.stdout
    refused = _load_settings("172.18.0.0/16, ngnix")
    assert refused.returncode != 0
    assert "TRUSTED_PROXIES: 'ngnix' is not an IP address" in refused.stderr


# --- One reader ------------------------------------------------------------------------------
# ``client_address`` is the only code of the project that reads where a request came from;
# everything counted by address calls it (the rate limits through ``client_address_hash``,
# axes through ``AXES_CLIENT_IP_CALLABLE``). A second reader would trust the headers on its own.

# The request headers and WSGI keys that name a client address, as a module would spell them
# (``"REMOTE_ADDR"``, ``"HTTP_X_FORWARDED_FOR"``, ``request.headers["X-Forwarded-For"]``).
_ADDRESS_KEYS = {
    "REMOTE_ADDR",
    "X_FORWARDED_FOR",
    "X_REAL_IP",
    "FORWARDED",
    "CLIENT_IP",
    "X_CLIENT_IP",
    "TRUE_CLIENT_IP",
    "CF_CONNECTING_IP",
    "X_CLUSTER_CLIENT_IP",
}
_THE_READER = ROOT / "feedback" / "addresses.py"
_PROJECT = ("indicators", "feedback", "review", "portal", "deploy")


def _address_keys_named(source: str) -> set[tuple[int, str]]:
    """(line, text) of each string in ``source`` that names a client-address header or key."""
    return {
        (node.lineno, node.value)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.upper().replace("-", "_").removeprefix("HTTP_") in _ADDRESS_KEYS
    }


def test_only_client_address_reads_where_a_request_came_from():
    modules = [*(path for app in _PROJECT for path in (ROOT / app).rglob("*.py")), ROOT / "gunicorn.conf.py"]
    readers = sorted(
        f"{path.relative_to(ROOT)}:{line} {text!r}"
        for path in modules
        if path != _THE_READER
        for line, text in _address_keys_named(path.read_text(encoding="utf-8"))
    )
    assert not readers, "Modules reading a client address themselves (call client_address):\n" + "\n".join(
        readers
    )


def test_the_check_finds_a_reader():
    assert {text for _, text in _address_keys_named(_THE_READER.read_text(encoding="utf-8"))} == {
        "REMOTE_ADDR",
        "HTTP_X_FORWARDED_FOR",
    }
    source = 'ip = request.headers.get("X-Real-IP") or request.META["REMOTE_ADDR"]'
    assert _address_keys_named(source) == {(1, "X-Real-IP"), (1, "REMOTE_ADDR")}


def test_no_library_decides_the_address_on_its_own():
    from axes.helpers import get_client_ip_address  # noqa: PLC0415
    from rest_framework.settings import api_settings  # noqa: PLC0415

    # DRF's throttles key on their own reading of X-Forwarded-For (``get_ident``: any client's
    # text unless NUM_PROXIES is set): none is configured; the limits are feedback.limits'.
    assert api_settings.DEFAULT_THROTTLE_CLASSES == []
    # axes asks client_address (pseudonymised), not ipware or the header: a forged header
    # does not change what it keys on, another peer does.
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.1")
    with override_settings(TRUSTED_PROXIES=()):
        first = get_client_ip_address(request)
        request.META["HTTP_X_FORWARDED_FOR"] = "198.51.100.2"
        assert get_client_ip_address(request) == first
        request.META["REMOTE_ADDR"] = "203.0.113.10"
        assert get_client_ip_address(request) != first
