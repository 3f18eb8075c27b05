"""The client address axes keys login failures on, pseudonymised.

axes stores the address of each failed login (``AccessAttempt.ip_address``,
an ``inet`` column). PIPL: no raw IP address is stored anywhere, so axes gets
a keyed hash of the address shaped as an IPv6 address instead: the same
client always maps to the same value (lockout by username + address still
works), and the real address cannot be read back without the secret key.
"""

import hashlib
import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The client's address, trusting ``PROXY_COUNT`` proxies in X-Forwarded-For."""
    proxies = settings.AXES_IPWARE_PROXY_COUNT or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "") or "0.0.0.0"  # noqa: S104 - a value, not a bind


def client_ip_pseudonym(request: HttpRequest) -> str:
    digest = hmac.new(
        settings.SECRET_KEY.encode(), b"axes:" + client_address(request).encode(), hashlib.sha256
    ).digest()
    return str(ipaddress.IPv6Address(digest[:16]))
