"""DRF's browsable API page, saying its language, in that language (wired in settings).

DRF's ``rest_framework/base.html`` opens with a bare ``<html>``, outside any block a
template could override, so screen readers guess the language of a page whose
labels are Chinese or English (``lang`` is required by WCAG 2.1, 3.1.1). The page
is rendered as DRF renders it; only its first tag gains the interface language, and
the raw-data form's two labels, which DRF writes in English without marking them for
translation, are given in it.
"""

from django.utils import translation
from django.utils.translation import gettext
from rest_framework import renderers

_BARE_HTML = "<html>"


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        page = super().render(data, accepted_media_type, renderer_context)
        language = translation.get_language() or "zh-hans"
        lang = "zh-Hans" if language == "zh-hans" else language
        return page.replace(_BARE_HTML, f'<html lang="{lang}">', 1)

    def get_raw_data_form(self, data, view, method, request):
        form = super().get_raw_data_form(data, view, method, request)
        if form is not None:
            form.fields["_content_type"].label = gettext("媒体类型")
            form.fields["_content"].label = gettext("内容")
        return form
