"""The public pages' URLs of many items at once, for lists of dozens of them.

``reverse()`` costs about as much as the rest of a list row; the URLs of one
route differ only in the item's key, so the route is reversed once per edition
year with a stand-in for the key, and each item's key put in its place (a key
is a slug, which a URL carries as it is). The result is ``get_absolute_url()``'s
(tests compare the two for every item of the 2023 report).
"""

from django.urls import reverse

# Stands in for the item's key when the route is reversed: a valid slug, or reverse()
# refuses it, and nothing else in the URL can contain it.
_KEY = "0-key-0"


class PageUrls:
    """``urls(year, key)``: the URL of the item ``key`` of edition ``year`` on ``route``."""

    def __init__(self, route: str, key_name: str) -> None:
        self.route = route
        self.key_name = key_name
        self.by_year: dict[int, str] = {}

    def __call__(self, year: int, key: str) -> str:
        pattern = self.by_year.get(year)
        if pattern is None:
            pattern = self.by_year[year] = reverse(self.route, kwargs={"year": year, self.key_name: _KEY})
        return pattern.replace(_KEY, key, 1)


def indicator_urls() -> PageUrls:
    return PageUrls("indicators:indicator", "code")


def story_urls() -> PageUrls:
    return PageUrls("indicators:story", "slug")
