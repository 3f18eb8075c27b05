"""drf-spectacular's schema generator, with the errors every API view can answer (wired in settings).

A view declares its own responses; the refusals that come from the machinery
around it are the same everywhere, so they are documented here once, for every
operation, unless the view says otherwise:

- **404** — an operation with a path parameter (the object does not exist or is
  not published), and a paginated list (a page past the end: DRF's "invalid page");
- **400** — an operation with query parameters (a filter or page value the filter
  refuses) or with a request body (field messages);
- **411** — an operation with a request body sent chunked, without ``Content-Length``, to a
  server that does not mark the end of the input (``portal/request_guards.py``; gunicorn
  does, and nginx hands on a length: in production only a development server answers it);
- **415** — an operation with a request body sent in a content type it does not parse.

Every 4xx response gets the body it actually has: ``{"detail": "…"}``, or for a 400 an
object of field messages (``{"score": ["…"]}``; ``{"detail": "…"}`` for a body that is
not JSON). And the query parameters say what the filters and the paginator take: ``page``
from 1, and an empty value where one means "no filter" or "the first page".

What DRF's input fields refuse and drf-spectacular does not say is said too, so that a
request the schema allows is one the API takes: a list that may not be empty
(``allow_empty=False``) has ``minItems: 1``; a text field has a ``pattern`` without
NUL (Django refuses it everywhere) and, when it may not be blank, with something
other than white space in it (``allow_blank=False``; DRF trims before it checks).
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers

TEXT = "^[^\\u0000]*$"
NOT_BLANK_TEXT = "^[^\\u0000]*\\S[^\\u0000]*$"

_DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string", "description": "Why the request was refused."}},
    "required": ["detail"],
}
_FIELD_ERRORS = {
    "type": "object",
    "description": (
        'Messages per field ({"score": ["评分须为 1 到 5 的整数。"]}, nested for lists of objects), '
        'or {"detail": "…"} when the body could not be read at all.'
    ),
    "additionalProperties": True,
}
_ADDED = {
    "400": "Invalid parameters or body: messages per field. Nothing stored.",
    "404": "Not found: no such published object, or a page past the end of the list.",
    "411": "A chunked request body this server cannot read safely: send it with Content-Length.",
    "415": "The request body's content type is not one this operation reads (use application/json).",
}


def _refusals(operation: dict) -> list[str]:
    """The statuses the machinery around this operation's view can answer."""
    parameters = operation.get("parameters", [])
    codes = []
    if any(p["in"] == "path" or p["name"] == "page" for p in parameters):
        codes.append("404")
    if any(p["in"] == "query" for p in parameters) or "requestBody" in operation:
        codes.append("400")
    if "requestBody" in operation:
        codes += ["411", "415"]
    return codes


class PortalAutoSchema(AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        for parameter in operation.get("parameters", []):
            optional_boolean = not parameter.get("required") and parameter["schema"].get("type") == "boolean"
            if parameter["in"] == "query" and optional_boolean:
                # DRF reads an empty value of an optional boolean as absent: its default.
                parameter["allowEmptyValue"] = True
        responses = operation["responses"]
        for code in _refusals(operation):
            responses.setdefault(code, {"description": _ADDED[code]})
        if responses.get("404", {}).get("description") == "No response body":  # declared as {404: None}
            responses["404"]["description"] = _ADDED["404"]
        media_types = self.map_renderers("media_type")
        for code, response in responses.items():
            if code.startswith("4") and "content" not in response and "$ref" not in response:
                schema = self._error_component("FieldErrors" if code == "400" else "Error")
                response["content"] = {media: {"schema": schema} for media in media_types}
        return operation

    def _get_filter_parameters(self):
        parameters = super()._get_filter_parameters()
        for parameter in parameters:
            # django-filter skips a filter given an empty value.
            parameter["allowEmptyValue"] = True
        return parameters

    def _get_pagination_parameters(self):
        parameters = super()._get_pagination_parameters()
        for parameter in parameters:
            if parameter["name"] == "page":
                # DRF reads an empty page as the first, and refuses 0 and below (404).
                parameter["allowEmptyValue"] = True
                parameter["schema"]["minimum"] = 1
        return parameters

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction != "request" or field.read_only or not isinstance(schema, dict):
            return schema
        if isinstance(field, serializers.ListSerializer | serializers.ListField) and not field.allow_empty:
            schema.setdefault("minItems", max(1, getattr(field, "min_length", None) or 1))
        elif isinstance(field, serializers.CharField) and schema.get("type") == "string":
            schema.setdefault("pattern", TEXT if field.allow_blank else NOT_BLANK_TEXT)
            if not field.allow_blank:
                schema.setdefault("minLength", 1)
        return schema

    def _error_component(self, name: str) -> dict:
        component = ResolvedComponent(
            name=name,
            type=ResolvedComponent.SCHEMA,
            object=name,
            schema=_FIELD_ERRORS if name == "FieldErrors" else _DETAIL,
        )
        self.registry.register_on_missing(component)
        return component.ref
