"""Who the client is: the TCP peer, or behind trusted proxies the hop they appended."""

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
