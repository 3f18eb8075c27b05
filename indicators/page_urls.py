"""The public pages' URLs of many items at once, for lists of dozens of them.

``reverse()`` costs about as much as the rest of a list row; the URLs of one
route differ only in the item's key, so the route is reversed once per edition
year with a stand-in for the key, and each item's key put in its place (a key
is a slug, which a URL carries as it is). The result is ``get_absolute_url()``'s
(tests compare the two for every item of the 2023 report).

The reversed patterns depend only on the code and the settings (the URLconf, the
script prefix, the language), so they are kept for the life of the process, by
all of these, and forgotten when a setting changes (a test's ``override_settings``).
"""

import re
from typing import Any

from django.core.signals import setting_changed
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language

# Stands in for the item's key when the route is reversed: a valid slug, or reverse()
# refuses it, and nothing else in the URL can contain it.
_KEY = "0-key-0"
# What the routes' ``slug`` converter accepts: ASCII, which reverse() quotes as it is.
# Any other key goes to reverse() itself, which refuses it as get_absolute_url() would.
_SLUG = re.compile(r"[-a-zA-Z0-9_]+")

# The reversed pattern of each route, key name, year, language, script prefix and URLconf.
_patterns: dict[tuple, str] = {}
PATTERN_ENTRIES = 1000


def _patterns_forget(**kwargs: Any) -> None:
    _patterns.clear()


setting_changed.connect(_patterns_forget)


class PageUrls:
    """``urls(year, key)``: the URL of the item ``key`` of edition ``year`` on ``route``."""

    def __init__(self, route: str, key_name: str) -> None:
        self.route = route
        self.key_name = key_name
        self.by_year: dict[int, str] = {}
        # What reverse() reads besides the route (read once per list, not per row).
        self.scope = (route, key_name, get_language(), get_script_prefix(), get_urlconf())

    def __call__(self, year: int, key: str) -> str:
        pattern = self.by_year.get(year)
        if pattern is None:
            pattern = self.by_year[year] = self._pattern(year)
        if not _SLUG.fullmatch(key):
            return reverse(self.route, kwargs={"year": year, self.key_name: key})
        return pattern.replace(_KEY, key, 1)

    def _pattern(self, year: int) -> str:
        scope = (*self.scope, year)
        pattern = _patterns.get(scope)
        if pattern is None:
            if len(_patterns) >= PATTERN_ENTRIES:
                _patterns.clear()
            pattern = _patterns[scope] = reverse(self.route, kwargs={"year": year, self.key_name: _KEY})
        return pattern


def edition_url(year: int) -> str:
    """``Edition.get_absolute_url()`` of the edition ``year``, reversed once per process
    (by what reverse() reads, as the patterns above)."""
    scope = ("indicators:edition", None, get_language(), get_script_prefix(), get_urlconf(), year)
    url = _patterns.get(scope)
    if url is None:
        if len(_patterns) >= PATTERN_ENTRIES:
            _patterns.clear()
        url = _patterns[scope] = reverse("indicators:edition", kwargs={"year": year})
    return url


def indicator_urls() -> PageUrls:
    return PageUrls("indicators:indicator", "code")


def story_urls() -> PageUrls:
    return PageUrls("indicators:story", "slug")
