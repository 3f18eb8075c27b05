from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The project's wiring as an app, so that its system checks are registered."""

    name = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        # Imported for its side effect: the @register decorators add the checks.
        from portal import checks  # noqa: F401, PLC0415 - checks import settings-dependent code
