"""Keeps messages in ``feedback.sms.outbox`` (like ``django.core.mail.outbox``): tests."""

from feedback import sms
from feedback.sms import SmsMessage
from feedback.sms.backends.base import BaseSmsBackend


class SmsBackend(BaseSmsBackend):
    def send(self, message: SmsMessage) -> None:
        # Looked up on each send so that a test may replace the list as well as clear it.
        sms.outbox.append(message)
