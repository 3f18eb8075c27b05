"""Chinese first: the browser's language does not switch the site; the switch does."""

import pytest

from tests.factories import EditionFactory


@pytest.mark.django_db
def test_an_english_browser_still_gets_chinese_until_it_chooses(client):
    EditionFactory(year=2023, title="体检读本", title_en="Health check reader")

    first = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert first.status_code == 200
    assert '<html lang="zh-Hans"' in first.content.decode()
    assert "体检读本" in first.content.decode()

    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    chosen = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert '<html lang="en"' in chosen.content.decode()
    assert "Health check reader" in chosen.content.decode()


@pytest.mark.django_db
def test_a_forged_language_cookie_falls_back_to_chinese(client, settings):
    EditionFactory(year=2023)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "xx-evil"
    response = client.get("/")
    assert response.status_code == 200
    assert '<html lang="zh-Hans"' in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("cookie", ["fr", "de", "zh-hant", "en-gb"])
def test_a_language_django_knows_but_the_site_does_not_offer_falls_back_to_chinese(client, settings, cookie):
    """Django has catalogues for these (its own messages); the site offers Chinese and English."""
    EditionFactory(year=2023)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = cookie
    response = client.get("/")
    assert response.status_code == 200
    assert '<html lang="zh-Hans"' in response.content.decode()
    assert response["Content-Language"] == "zh-hans"
    bad = client.post("/api/v1/ratings/", {}, content_type="application/json")
    assert "fr" not in bad["Content-Language"]
    assert bad["Content-Language"] == "zh-hans"
