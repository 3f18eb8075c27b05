"""``{% fixed %}`` reads the language once per render: its texts follow each render's
language, and it cannot be put where the language changes within a render."""

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.utils import translation


def test_each_render_has_its_own_language():
    page = Template(
        "{% load chrome i18n %}{% fixed %}{% translate '首页' %}{% endfixed %}"
        "|{% fixed %}{% translate '首页' %}{% endfixed %}"
    )
    assert page.render(Context()) == "首页|首页"
    with translation.override("en"):
        assert page.render(Context()) == "Home|Home"
    assert page.render(Context()) == "首页|首页"


def test_fixed_inside_language_is_refused():
    with pytest.raises(TemplateSyntaxError, match="language"):
        Template(
            "{% load chrome i18n %}{% language 'en' %}"
            "{% fixed %}{% translate '首页' %}{% endfixed %}{% endlanguage %}"
        )
    # Beside it, not inside: allowed.
    page = Template(
        "{% load chrome i18n %}{% language 'en' %}{% translate '首页' %}{% endlanguage %}"
        "|{% fixed %}{% translate '首页' %}{% endfixed %}"
    )
    assert page.render(Context()) == "Home|首页"
