"""The admin as the portal's own: its name, the apps in the order staff work in, all in Chinese.

Wiring only: no app owns the admin site itself, Django's accounts or
django-axes, so their configuration lives here. ``INSTALLED_APPS`` names the
two app configs below in place of ``django.contrib.admin`` and ``axes``:

- ``PortalAdminConfig`` makes ``PortalAdminSite`` the default site, so every
  app's ``admin.site.register`` lands on it and nothing else changes;
- ``AxesConfig`` gives django-axes a Chinese name (the package sets none, so
  no catalogue can translate it); its models and fields are translated in
  ``locale/zh_Hans``.

This module is imported while the app registry is being filled: it must not
import any model at module level (``portal.auth_admin`` does, once ready).
"""

from axes.apps import AppConfig as AxesAppConfig
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


class PortalAdminSite(admin.AdminSite):
    site_header = _("北京城市总体规划实施体检 · 公众参与平台 管理")
    site_title = _("公众参与平台管理")
    index_title = _("管理首页")
    # Django lists apps by name, which put "Axes" (login records) above the report.
    # Staff's daily work comes first: the report, residents' feedback, the planners'
    # cases; then accounts and login protection. An app not named here goes last.
    app_order = ("indicators", "feedback", "review", "auth", "axes")

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict]:
        rank = {label: index for index, label in enumerate(self.app_order)}
        apps = super().get_app_list(request, app_label)
        # sorted() is stable: apps not named keep Django's alphabetical order among themselves.
        return sorted(apps, key=lambda app: rank.get(app["app_label"], len(rank)))


class PortalAdminConfig(AdminConfig):
    default_site = "portal.admin.PortalAdminSite"

    def ready(self) -> None:
        super().ready()  # registers every app's admin (autodiscover)
        # Imported here, not at the top: it imports auth's models, which exist only
        # once the registry is ready, and it replaces admins autodiscover registered.
        from portal import auth_admin  # noqa: PLC0415

        auth_admin.register(site=admin.site)


class AxesConfig(AxesAppConfig):
    """django-axes (login lockout) under a name staff read."""

    verbose_name = _("登录保护")
