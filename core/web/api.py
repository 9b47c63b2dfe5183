"""The JSON API's plumbing (django-ninja): one NinjaAPI, its OpenAPI document at
/api/schema, a browsable page of it at /api/docs, and the errors every endpoint shares.

What the document says comes from the code that answers, so it cannot drift:

- query parameters from the very Django form a view parses them with
  (``form_parameters``: each field's type and bounds, ``size`` 1..100, ids up to
  BIGINT, dates as YYYY-MM-DD); the forms stay the one parser, for the pages and
  the JSON alike, and their errors stay the API's (translated) 400s;
- path parameters from the view's signature (``Path`` bounds);
- bodies from the pydantic schemas every answer is validated and serialised
  through (an answer that does not fit its schema is a 500 in the tests);
- the session login of the endpoints that need one (``session``).

The errors keep their one place: a service's ``NotFound`` (404) and a database
that is down (503) are raised on to ``core.web.middleware`` (and the replica
router's retry) as for every other view; this module only documents them.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema, Swagger
from ninja.errors import AuthenticationError, ValidationError
from ninja.renderers import JSONRenderer
from ninja.security import SessionAuth

from core.web.http import json_error


class Error(Schema):
    error: str


class _Renderer(JSONRenderer):
    # As the hand-written views did: Korean nicknames as UTF-8, not \uXXXX escapes.
    json_dumps_params = {"ensure_ascii": False}


class SessionCookie(SessionAuth):
    """Logged in with the site's own session cookie (log in on /login/ first)."""


session = SessionCookie()


class Api(NinjaAPI):
    def get_openapi_schema(self, **kwargs):
        schema = super().get_openapi_schema(**kwargs)
        # HEAD is answered wherever GET is (Django's rule); listing it twice would give
        # every operation a second, identical entry with the same operationId.
        for operations in schema["paths"].values():
            operations.pop("head", None)
        return schema


def new_api() -> Api:
    api = Api(
        title="SNS",
        version="1",
        description=(
            "The site's timelines, members and calendar as JSON. Lists are keyset pages: "
            "follow `next` and `previous` (absolute URLs, null at either end). Errors are "
            '`{"error": "..."}`, in the language of Accept-Language (English or Korean).'
        ),
        urls_namespace="api",
        openapi_url="/schema",
        docs_url="/docs",
        docs=Swagger(settings={"layout": "BaseLayout", "deepLinking": True}),
        renderer=_Renderer(),
    )
    api.add_exception_handler(ValidationError, _invalid)
    api.add_exception_handler(AuthenticationError, _unauthenticated)
    api.add_exception_handler(Exception, _raise)
    return api


def _raise(request, exc: Exception):
    # Not ninja's default (a traceback page while DEBUG): every other error goes on to
    # the middleware, which answers NotFound and a database outage for every view.
    raise exc


def _unauthenticated(request, exc: AuthenticationError):
    return json_error(_("Authentication required: log in first."), 401)


def _invalid(request, exc: ValidationError):
    """A path parameter out of its bounds (query parameters are the forms')."""
    return json_error("; ".join(_error_text(error) for error in exc.errors), 400)


def _error_text(error: dict) -> str:
    name = error["loc"][-1]
    limits = error.get("ctx", {})
    if error["type"] == "greater_than_equal":
        message = _("Ensure this value is greater than or equal to %(limit_value)s.")
        return f"{name}: " + message % {"limit_value": limits["ge"]}
    if error["type"] == "less_than_equal":
        message = _("Ensure this value is less than or equal to %(limit_value)s.")
        return f"{name}: " + message % {"limit_value": limits["le"]}
    return f"{name}: " + _("Enter a whole number.")


# --- the document's parameters, from the forms ---------------------------------------------


def form_parameters(form_class: type[forms.Form], *, rules: str = "") -> dict:
    """``openapi_extra`` for an operation whose query the form ``form_class`` parses.

    Each field becomes a query parameter with its type, bounds and help; ``rules``
    (the form's checks across fields) goes into the operation's description.
    """
    extra = {"parameters": [_parameter(name, f) for name, f in form_class.base_fields.items()]}
    if rules:
        extra["description"] = rules
    return extra


def _parameter(name: str, field: forms.Field) -> dict:
    parameter = {"in": "query", "name": name, "required": field.required, "schema": _schema(field)}
    if field.help_text:
        parameter["description"] = str(field.help_text)
    return parameter


def _schema(field: forms.Field) -> dict:
    if isinstance(field, forms.IntegerField):
        schema = {"type": "integer"}
        if field.min_value is not None:
            schema["minimum"] = field.min_value
        if field.max_value is not None:
            schema["maximum"] = field.max_value
        return schema
    if isinstance(field, forms.DateField):
        return {"type": "string", "format": "date"}  # YYYY-MM-DD
    raise TypeError(f"no OpenAPI schema for {type(field).__name__}: add it here")


def errors(*statuses: int) -> dict[int, type[Error]]:
    """``response=`` entries for an endpoint's error answers, each ``{"error": ...}``; 503
    (the database or a part it needs is down, answered by the middleware) is every one's."""
    return {status: Error for status in (*statuses, 503)}
