from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe
from django.views.i18n import set_language

from core.web import health
from core.web.api import new_api
from posts.views import api as posts_api
from social.views import api as social_api

# The JSON API (django-ninja): every /api/ endpoint, its OpenAPI document at /api/schema
# and a browsable page of it at /api/docs.
api = new_api()
api.add_router("", social_api)
api.add_router("", posts_api)

# The admin says whose it is, in the visitor's language (Django's default: "Django administration").
admin.site.site_header = _("SNS administration")
admin.site.site_title = _("SNS administration")


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    # Browsers ask for /favicon.ico whatever a page links to. Not permanent: the
    # target's name carries a content hash that changes with the file.
    return redirect(static("favicon.svg"))


# A URL that matches nothing: JSON under /api/, the site's 404 page elsewhere.
handler404 = "core.web.middleware.url_not_found"

urlpatterns = [
    # For machines: no language prefix, no trailing slash.
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    # The language switcher. Exempt from CSRF: choosing a language is no one's secret,
    # and without a token in it the header of a public page is the same for everyone
    # (core/web/pagecache.py caches those pages whole).
    path("i18n/setlang/", csrf_exempt(set_language), name="set_language"),
    path("api/", api.urls),
    path("", include("members.urls")),
    path("", include("posts.urls")),
    path("", include("social.urls")),
    path("", include("likes.urls")),
]

if settings.DEBUG_TOOLBAR:
    urlpatterns.append(path("__debug__/", include("debug_toolbar.urls")))
