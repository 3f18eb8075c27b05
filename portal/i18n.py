"""The language switch, without a per-visitor CSRF token.

Every public page carries the switch, and those pages are shared by every
visitor (``indicators.cache``), so its form holds no CSRF token. A browser says
where a POST comes from in ``Origin`` (else ``Referer``) and a page on another
site cannot forge either, so a switch posted from elsewhere is refused (403);
one without either header comes from outside a browser, where there is no one
to trick. This is the check ``feedback.pipeline`` makes for residents'
submissions. Django's own view does the rest (the cookie, the way back).
"""

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from feedback.pipeline import from_this_site


@csrf_exempt
@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    if from_this_site(request) is False:
        return HttpResponseForbidden()
    return set_language(request)
