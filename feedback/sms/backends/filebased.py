"""Writes each message as one JSON file in ``settings.SMS_FILE_PATH``: development and tests."""

import json
import os
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from feedback.sms import SmsMessage
from feedback.sms.backends.base import BaseSmsBackend


class SmsBackend(BaseSmsBackend):
    def __init__(self, *, file_path: str | os.PathLike[str] | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.file_path = Path(file_path or settings.SMS_FILE_PATH)

    def send(self, message: SmsMessage) -> None:
        if self.file_path.exists() and not self.file_path.is_dir():
            raise ImproperlyConfigured(f"SMS_FILE_PATH {self.file_path} exists and is not a directory.")
        self.file_path.mkdir(parents=True, exist_ok=True)
        sent_at = timezone.now()
        # Time first so that a directory listing is in sending order; the uuid keeps names unique.
        name = f"{sent_at:%Y%m%d-%H%M%S-%f}-{uuid.uuid4().hex[:8]}.json"
        record = {
            "phone": message.phone,
            "template": message.template,
            "params": dict(message.params),
            "sent_at": sent_at.isoformat(),
        }
        (self.file_path / name).write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
