"""Text messages (SMS), sent through a pluggable backend like Django's e-mail.

``settings.SMS_BACKEND`` names the backend class by dotted path, as ``EMAIL_BACKEND`` does:

* ``feedback.sms.backends.console.SmsBackend`` prints each message (code included): development;
* ``feedback.sms.backends.filebased.SmsBackend`` writes one JSON file per message to ``SMS_FILE_PATH``;
* ``feedback.sms.backends.locmem.SmsBackend`` appends to :data:`outbox`: tests;
* ``feedback.sms.backends.http.SmsBackend`` sends through the provider's HTTP API: production.

Callers tell two kinds of failure apart: :class:`SmsUnavailable` (network, timeout, provider
down: the resident may try again later) and :class:`SmsSendError` (the provider refused this
message, with its code). Both derive from :class:`SmsError`. A missing provider setting is a
deployment error and raises ``ImproperlyConfigured`` when a message is sent.

This package is only the transport: verification codes, their expiry and attempt limits are
built on top of it.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from feedback.sms.backends.base import BaseSmsBackend

__all__ = [
    "SmsError",
    "SmsMessage",
    "SmsSendError",
    "SmsUnavailable",
    "get_connection",
    "mask_phone",
    "outbox",
    "send_sms",
]

# E.164: "+", a country code that does not start with 0, at most 15 digits in all.
E164_RE = re.compile(r"^\+[1-9]\d{6,14}$")

# Messages the locmem backend "sent", like django.core.mail.outbox. Tests empty it.
outbox: list["SmsMessage"] = []


class SmsError(Exception):
    """A text message could not be sent."""


class SmsSendError(SmsError):
    """The provider refused the message or answered something we cannot read.

    ``code`` is the provider's code (``"LimitExceeded.PhoneNumberDailyLimit"``) or ours for an
    unreadable answer (``"InvalidResponse"``, ``"HTTP403"``); ``provider_message`` its text.
    Neither holds the full phone number or the message parameters.
    """

    def __init__(self, *, code: str, provider_message: str = "", request_id: str = "") -> None:
        self.code = code
        self.provider_message = provider_message
        self.request_id = request_id
        super().__init__(f"{code}: {provider_message}" if provider_message else code)


class SmsUnavailable(SmsError):
    """The provider could not be reached or failed on its side (timeout, network, HTTP 5xx):
    the same message may well go through later."""


@dataclass(frozen=True)
class SmsMessage:
    """One text message to one phone.

    ``params`` fill the provider-side template. Providers in the Tencent Cloud style take them
    by position (``{1}``, ``{2}``), so their order is the dict's insertion order.
    """

    phone: str
    template: str
    params: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not E164_RE.fullmatch(self.phone):
            # A programming error of the caller (who must normalise the number), not a send failure.
            raise ValueError(f"Phone number not in E.164 form (+8613812345678): {mask_phone(self.phone)}")
        # Frozen all the way down: a caller changing its dict later must not change the message.
        object.__setattr__(self, "params", MappingProxyType({k: str(v) for k, v in self.params.items()}))

    def __repr__(self) -> str:
        # Reprs end up in logs and tracebacks: no full number, no code.
        return f"SmsMessage(phone={mask_phone(self.phone)!r}, template={self.template!r}, params=<hidden>)"


def mask_phone(phone: str) -> str:
    """``+8613812345678`` → ``138****5678``: what logs and screens may show of a number."""
    national = phone.removeprefix("+86")
    if len(national) < 8:
        return "****"
    return f"{national[:3]}****{national[-4:]}"


def get_connection(
    backend: str | None = None, *, fail_silently: bool = False, **kwargs: object
) -> "BaseSmsBackend":
    """An instance of the backend named by ``backend`` or ``settings.SMS_BACKEND``."""
    backend_class = import_string(backend or settings.SMS_BACKEND)
    return backend_class(fail_silently=fail_silently, **kwargs)


def send_sms(*, phone: str, template_params: dict[str, str], template: str | None = None) -> None:
    """Send one message through the configured backend; ``template`` defaults to
    ``settings.SMS_TEMPLATE_ID``. Raises :class:`SmsError` (or ``ImproperlyConfigured``)."""
    message = SmsMessage(phone=phone, template=template or settings.SMS_TEMPLATE_ID, params=template_params)
    get_connection().send_messages([message])
