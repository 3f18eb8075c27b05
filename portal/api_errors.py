"""DRF's exception handler, plus Django's ValidationError (wired in settings); the API's 404.

Services raise Django's ``ValidationError`` with field messages; API views let
it propagate, and this turns it into the same 400 a serializer error gives
(``{"field": ["message", …]}``), so no view converts errors by hand.

A URL under ``/api/`` that matches no route (``/api/v1/editions/abc/``) gets the
API's own 404, ``{"detail": "…"}`` in JSON, not the site's page (``handler404``
in portal/urls.py).
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = ValidationError(detail)
    return drf_exception_handler(exc, context)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        body = {"detail": str(NotFound.default_detail)}
        return JsonResponse(body, status=404, json_dumps_params={"ensure_ascii": False})
    return defaults.page_not_found(request, exception)
