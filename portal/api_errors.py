"""DRF's exception handler, plus Django's ValidationError (wired in settings).

Services raise Django's ``ValidationError`` with field messages; API views let
it propagate, and this turns it into the same 400 a serializer error gives
(``{"field": ["message", …]}``), so no view converts errors by hand.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = ValidationError(detail)
    return drf_exception_handler(exc, context)
