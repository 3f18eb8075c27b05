"""Static files as production serves them (WhiteNoise, DEBUG off): fingerprinted, compressed, kept for ever.

``collectstatic`` (CompressedManifestStaticFilesStorage, with Brotli installed) writes
each file under a name holding a hash of its content, with a gzip and a brotli copy
beside it; a name that never changes content may be cached for ten years.
"""

import re

import pytest
from django.templatetags.static import static

FOREVER = "max-age=315360000, public, immutable"


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.parametrize("name", ["vendor/chartjs/chart.umd.js", "css/site.css", "feedback/me.js"])
def test_static_files_are_fingerprinted_compressed_and_cached_for_ever(client, name):
    url = static(name)
    stem, extension = name.rsplit("/", 1)[-1].rsplit(".", 1)
    assert re.search(rf"/{re.escape(stem)}\.[0-9a-f]{{12}}\.{extension}$", url), url

    plain = client.get(url)
    assert plain.status_code == 200
    assert plain["Cache-Control"] == FOREVER
    size = len(_body(plain))
    for encoding in ("br", "gzip"):
        response = client.get(url, HTTP_ACCEPT_ENCODING=f"{encoding}, deflate")
        assert response.status_code == 200
        assert response["Content-Encoding"] == encoding
        assert response["Cache-Control"] == FOREVER
        assert "Accept-Encoding" in response["Vary"]
        assert len(_body(response)) < size / 2, (name, encoding)


def test_chartjs_is_no_longer_sent_uncompressed_to_browsers_that_accept_brotli(client):
    """Chart.js is ~200 KB as it ships; a phone that accepts brotli gets well under a third of it."""
    url = static("vendor/chartjs/chart.umd.js")
    full = len(_body(client.get(url)))
    compressed = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert compressed["Content-Encoding"] == "br"
    assert full > 150_000 and len(_body(compressed)) < full / 3
