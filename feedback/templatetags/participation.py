"""Template tags that put the participation panel on item pages.

Placeholder interface until the feedback app fills it (issue 3).
"""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def participation_panel(context, target) -> str:
    return ""
