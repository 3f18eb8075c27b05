"""DRF's browsable API page, saying its language (wired in settings).

DRF's ``rest_framework/base.html`` opens with a bare ``<html>``, outside any block a
template could override, so screen readers guess the language of a page whose
labels are Chinese or English (``lang`` is required by WCAG 2.1, 3.1.1). The page
is rendered as DRF renders it; only its first tag gains the interface language.
"""

from django.utils import translation
from rest_framework import renderers

_BARE_HTML = "<html>"


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        page = super().render(data, accepted_media_type, renderer_context)
        language = translation.get_language() or "zh-hans"
        lang = "zh-Hans" if language == "zh-hans" else language
        return page.replace(_BARE_HTML, f'<html lang="{lang}">', 1)
