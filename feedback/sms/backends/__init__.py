"""SMS backends; ``settings.SMS_BACKEND`` picks one (see ``feedback.sms``)."""
