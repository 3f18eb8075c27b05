"""System checks of the deployment settings (``manage.py check --deploy``)."""

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def embedded_mode_check(app_configs, **kwargs) -> list[CheckMessage]:
    """The embedded mode is for a first look on one machine, never a deployment."""
    if not getattr(settings, "EMBEDDED", False):
        return []
    return [
        Warning(
            "EMBEDDED is on: SQLite, tasks run inside the web process and a per-process cache "
            "(rate limits are not shared), on plain http.",
            hint="Unset EMBEDDED and set DATABASE_URL and REDIS_URL (see README, Production).",
            id="portal.W001",
        )
    ]
