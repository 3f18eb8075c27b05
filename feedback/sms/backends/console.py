"""Writes each message to a stream (standard output by default): development only,
since the text includes the verification code."""

import json
import sys
import threading
from typing import TextIO

from feedback.sms import SmsMessage
from feedback.sms.backends.base import BaseSmsBackend


class SmsBackend(BaseSmsBackend):
    def __init__(self, *, stream: TextIO | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.stream = stream or sys.stdout
        # Concurrent requests of the development server must not interleave their lines.
        self._lock = threading.RLock()

    def send(self, message: SmsMessage) -> None:
        params = json.dumps(dict(message.params), ensure_ascii=False)
        with self._lock:
            self.stream.write(f"SMS to {message.phone} · template {message.template or '-'} · {params}\n")
            self.stream.write("-" * 79 + "\n")
            self.stream.flush()
