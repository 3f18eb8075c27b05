"""System checks of the deployment settings (``manage.py check --deploy``)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register
from django.http.request import validate_host


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


@register(Tags.security, deploy=True)
def site_url_check(app_configs, **kwargs) -> list[CheckMessage]:
    """``SITE_URL`` is the address in e-mails, share links, QR codes and Open Graph tags: a
    deployment that leaves it at the default sends residents to 127.0.0.1."""
    if getattr(settings, "EMBEDDED", False) or settings.DEBUG:
        return []
    parts = urlsplit(settings.SITE_URL)
    host = parts.hostname or ""
    public = parts.scheme in ("http", "https") and host not in ("", "127.0.0.1", "localhost")
    if public and validate_host(host, settings.ALLOWED_HOSTS):
        return []
    return [
        Warning(
            f"SITE_URL is {settings.SITE_URL!r}: links in e-mails, share blocks and QR codes would "
            "not lead to this site.",
            hint="Set SITE_URL to the site's public address, e.g. https://tijian.example.gov.cn "
            "(its host one of ALLOWED_HOSTS).",
            id="portal.W002",
        )
    ]
