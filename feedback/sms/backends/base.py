"""The interface every SMS backend implements."""

import logging
from collections.abc import Iterable

from feedback.sms import SmsError, SmsMessage, SmsUnavailable, mask_phone

logger = logging.getLogger("feedback.sms")


class BaseSmsBackend:
    """Sends :class:`~feedback.sms.SmsMessage` objects; subclasses implement :meth:`send`.

    With ``fail_silently`` an :class:`~feedback.sms.SmsError` is logged (masked) instead of
    raised, as Django's mail backends do; ``ImproperlyConfigured`` is always raised, since a
    deployment without a provider must not look like one with a flaky provider.
    """

    def __init__(self, *, fail_silently: bool = False, **kwargs: object) -> None:
        self.fail_silently = fail_silently

    def send(self, message: SmsMessage) -> None:
        """Send one message or raise :class:`~feedback.sms.SmsError`."""
        raise NotImplementedError("subclasses of BaseSmsBackend must override send()")

    def send_messages(self, messages: Iterable[SmsMessage]) -> int:
        """Send the messages in order and return how many were sent."""
        sent = 0
        for message in messages:
            try:
                self.send(message)
            except SmsError as error:
                if not self.fail_silently:
                    raise
                logger.warning("SMS to %s not sent: %s", mask_phone(message.phone), error)
                if isinstance(error, SmsUnavailable):
                    # The provider is down: each further message would only wait out its timeout.
                    break
            else:
                sent += 1
        return sent
