"""The client's network address, for keyed hashes only (never stored raw).

One function, ``client_address``, decides who the client is for every
per-address rule: the submission rate limits (``feedback.limits`` through
``feedback.residents.client_address_hash``), the planner-login lockout
(``review.security``, django-axes) and whatever else counts by address.

Why forwarding headers are read only behind a trusted proxy, and from the right:
``X-Forwarded-For`` is a plain request header, so a client can send any
value it likes. A proxy such as nginx (``$proxy_add_x_forwarded_for``) keeps
what the client sent and *appends* the address it saw, so in
``X-Forwarded-For: <forged>, <forged>, <client>`` only the right-hand hops
were written by proxies; everything to the left of them is the client's own
text. So:

- if the direct peer (``REMOTE_ADDR``, which the TCP connection proves) is
  not one of ``settings.TRUSTED_PROXIES``, no header is read at all: the
  peer is the client, whatever it claims;
- otherwise the hops are walked from the right; hops that are themselves
  trusted proxies are skipped (a chain of proxies), and the first untrusted
  hop is the client, because the trusted proxy to its right wrote it;
- if every hop is a trusted proxy, the leftmost one is the client (a
  request from inside the proxies' own network);
- a hop that is not an IP address stops the walk and the nearest trusted
  address to its right (the proxy that passed it on) is taken. A trusted
  proxy appends the address it saw, so a client outside the proxies reaches
  this case only through a broken proxy, and then it shares one address
  with everyone else the proxy mislabels: it never gets to choose its own.

Addresses are returned in one canonical spelling (``[::1]`` → ``::1``,
IPv4-mapped IPv6 ``::ffff:192.0.2.1`` → ``192.0.2.1``) so that one client
cannot become several by spelling its address differently. nginx does not
add ports to ``X-Forwarded-For``, so a hop with a port counts as malformed.
"""

import ipaddress

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# What a client without a usable REMOTE_ADDR (e.g. a test request) hashes as.
_UNKNOWN = "0.0.0.0"  # noqa: S104 - a value, not a bind address


def parse_trusted_proxies(value: str) -> tuple[IPNetwork, ...]:
    """``"10.0.0.0/8, 192.0.2.7"`` → networks; a bad entry raises ImproperlyConfigured naming it.

    A network with host bits set (``10.0.0.1/8``) is refused rather than
    widened, since it is more likely a typo than a wish to trust 16 million
    addresses.
    """
    networks = []
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry))
        except ValueError as error:
            raise ImproperlyConfigured(
                f"TRUSTED_PROXIES: {entry!r} is not an IP address or network "
                f"(e.g. 10.0.0.5 or 10.0.0.0/8): {error}"
            ) from error
    return tuple(networks)


def _address(text: str) -> IPAddress | None:
    """The IP address in ``text`` (bare or ``[bracketed]`` IPv6), or None."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(address: IPAddress) -> bool:
    return any(address in network for network in settings.TRUSTED_PROXIES)


def client_address(request: HttpRequest) -> str:
    """The client's address: the peer, or behind trusted proxies the hop they vouch for."""
    remote = request.META.get("REMOTE_ADDR", "")
    peer = _address(remote)
    if peer is None:
        # Not a TCP peer we can reason about (never from gunicorn over TCP):
        # hash what is there, and trust no header.
        return remote or _UNKNOWN
    if not _trusted(peer):
        return str(peer)
    nearest = peer
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = forwarded.split(",") if forwarded.strip() else []
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return str(nearest)
        if not _trusted(address):
            return str(address)
        nearest = address
    return str(nearest)
