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

from feedback.addresses import client_address


def client_ip_pseudonym(request: HttpRequest) -> str:
    digest = hmac.new(
        settings.SECRET_KEY.encode(), b"axes:" + client_address(request).encode(), hashlib.sha256
    ).digest()
    return str(ipaddress.IPv6Address(digest[:16]))
