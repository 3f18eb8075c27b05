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

from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language

from indicators.memo import settings_memo

# Stands in for the item's key when the route is reversed: a valid slug, or reverse()
# refuses it, and nothing else in the URL can contain it.
_KEY = "0-key-0"
# What the routes' ``slug`` converter accepts: ASCII, which reverse() quotes as it is.
# Any other key goes to reverse() itself, which refuses it as get_absolute_url() would.
_SLUG = re.compile(r"[-a-zA-Z0-9_]+")


@settings_memo(maxsize=1000)
def _reversed(route: str, kwargs: tuple, language: str | None, prefix: str, urlconf: object) -> str:
    """``reverse(route, kwargs=dict(kwargs))``, by all it reads besides (the language, the
    script prefix, the URLconf): once per process."""
    return reverse(route, kwargs=dict(kwargs))


def _reverse(route: str, **kwargs: object) -> str:
    return _reversed(route, tuple(kwargs.items()), get_language(), get_script_prefix(), get_urlconf())


class PageUrls:
    """``urls(year, key)``: the URL of the item ``key`` of edition ``year`` on ``route``."""

    def __init__(self, route: str, key_name: str) -> None:
        self.route = route
        self.key_name = key_name
        self.by_year: dict[int, str] = {}

    def __call__(self, year: int, key: str) -> str:
        pattern = self.by_year.get(year)
        if pattern is None:
            pattern = self.by_year[year] = _reverse(self.route, year=year, **{self.key_name: _KEY})
        if not _SLUG.fullmatch(key):
            return reverse(self.route, kwargs={"year": year, self.key_name: key})
        return pattern.replace(_KEY, key, 1)


def edition_url(year: int) -> str:
    """``Edition.get_absolute_url()`` of the edition ``year``, reversed once per process
    (by what reverse() reads, as the patterns above)."""
    return _reverse("indicators:edition", year=year)


def chapter_urls() -> PageUrls:
    return PageUrls("indicators:chapter", "slug")


def indicator_urls() -> PageUrls:
    return PageUrls("indicators:indicator", "code")


def story_urls() -> PageUrls:
    return PageUrls("indicators:story", "slug")
