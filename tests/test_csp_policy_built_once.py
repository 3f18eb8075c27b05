"""The Content-Security-Policy built once per process (portal.middleware) is django-csp's own.

``ContentSecurityPolicyMiddleware`` keeps the policy the settings give instead of building
it for every response; a page gets exactly the header django-csp would build, and a
change of the settings (as a deploy makes, or a test) is followed at once.
"""

import pytest
from csp.constants import NONE, SELF
from csp.utils import build_policy

pytestmark = pytest.mark.django_db


def test_a_page_gets_the_policy_django_csp_builds(client) -> None:
    for url in ("/", "/privacy/", "/api/v1/indicators/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Security-Policy"] == build_policy(), url
        assert "Content-Security-Policy-Report-Only" not in response, url


def test_a_changed_setting_is_followed(client, settings) -> None:
    assert "frame-ancestors 'none'" in client.get("/privacy/")["Content-Security-Policy"]
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": [SELF], "frame-ancestors": [SELF]}}
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"object-src": [NONE]}}
    response = client.get("/privacy/")
    assert response["Content-Security-Policy"] == build_policy()
    directives = sorted(response["Content-Security-Policy"].split("; "))
    assert directives == ["default-src 'self'", "frame-ancestors 'self'"]
    assert response["Content-Security-Policy-Report-Only"] == build_policy(report_only=True)
    assert "object-src 'none'" in response["Content-Security-Policy-Report-Only"]
