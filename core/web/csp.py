"""django-csp's middleware, with the site's one policy built once per process.

django-csp builds the header anew for every response (a dataclass copied into a
dict, then every directive joined: about a tenth of a millisecond, on every page).
The site's policy is one for every response: no nonces, no view that changes it.
So a response that asks nothing of its own (no ``@csp_update``-style attributes,
no nonce taken, no report-only policy configured) gets the string built for the
first such response; any other goes through django-csp unchanged.
"""

from __future__ import annotations

from csp.constants import HEADER
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

# What a view or a decorator may set to change the policy of its response.
OWN_POLICY = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_exempt",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
    "_csp_exempt_ro",
)


class CSPMiddleware(BaseCSPMiddleware):
    _policy: str | None = None

    def process_response(self, request: HttpRequest, response: HttpResponseBase):
        if (
            getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, name) for name in OWN_POLICY)
            or HEADER in response
            or getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
            or (settings.CONTENT_SECURITY_POLICY or {}).get("EXCLUDE_URL_PREFIXES")
            or settings.DEBUG
        ):
            return super().process_response(request, response)
        if self._policy is None:
            self._policy = build_policy()
        if self._policy:
            response[HEADER] = self._policy
        # As django-csp does: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
