"""Django's accounts in the admin, with their permissions named in Chinese.

Django writes a permission's name once, in English, when it creates the row
("Can add group"), so no catalogue translates it and the group and user forms
listed some 150 English lines. The forms name each one from its codename and
its model's (translated) verbose name instead: "体检报告 | 指标 | 可修改".

Installed by ``portal.admin.PortalAdminConfig.ready`` after every app's admin
is registered: it replaces the two admins ``django.contrib.auth`` registers.
"""

from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth.models import Group, Permission, User
from django.db.models import ManyToManyField
from django.forms import ModelMultipleChoiceField
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# The four permissions Django creates for every model, by codename prefix.
ACTIONS = {"add": _("可增加"), "change": _("可修改"), "delete": _("可删除"), "view": _("可查看")}


def permission_label(permission: Permission) -> str:
    """ "应用 | 模型 | 可修改" for Django's own four; a custom permission keeps its (translated) name."""
    model = permission.content_type.model_class()
    if model is None:  # a content type whose model is gone
        return str(permission)
    action, _sep, model_name = permission.codename.partition("_")
    if action in ACTIONS and model_name == model._meta.model_name:
        what = ACTIONS[action]
    else:
        what = gettext(permission.name)
    return f"{model._meta.app_config.verbose_name} | {model._meta.verbose_name} | {what}"


class ChinesePermissionsMixin:
    def formfield_for_manytomany(
        self, db_field: ManyToManyField, request: HttpRequest | None = None, **kwargs
    ) -> ModelMultipleChoiceField:
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and db_field.remote_field.model is Permission:
            field.queryset = field.queryset.select_related("content_type")
            field.label_from_instance = permission_label
        return field


class GroupAdmin(ChinesePermissionsMixin, auth_admin.GroupAdmin):
    pass


class UserAdmin(ChinesePermissionsMixin, auth_admin.UserAdmin):
    pass


def register(*, site: admin.AdminSite) -> None:
    for model, model_admin in ((Group, GroupAdmin), (User, UserAdmin)):
        if site.is_registered(model):
            site.unregister(model)
        site.register(model, model_admin)
