"""SMS fixtures: import them into a test module that sends text messages.

``sms_outbox`` switches to the locmem backend and hands over its outbox; ``sms_provider``
switches to the HTTP backend, pointed at a :class:`~tests.sms_provider.LocalSmsProvider`.
"""

from collections.abc import Iterator

import pytest

from feedback import sms
from tests.sms_provider import LocalSmsProvider

SIGN_NAME = "北京城市体检"
TEMPLATE_ID = "2100001"


@pytest.fixture
def sms_outbox(settings) -> Iterator[list[sms.SmsMessage]]:
    settings.SMS_BACKEND = "feedback.sms.backends.locmem.SmsBackend"
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


@pytest.fixture
def sms_provider(settings) -> Iterator[LocalSmsProvider]:
    with LocalSmsProvider() as provider:
        settings.SMS_BACKEND = "feedback.sms.backends.http.SmsBackend"
        settings.SMS_API_URL = provider.url
        settings.SMS_API_KEY = provider.api_key
        settings.SMS_API_SECRET = provider.api_secret
        settings.SMS_APP_ID = provider.app_id
        settings.SMS_SIGN_NAME = SIGN_NAME
        settings.SMS_TEMPLATE_ID = TEMPLATE_ID
        settings.SMS_TIMEOUT = 2.0
        yield provider
