"""What views share: who wants JSON, where a form may send a member back to."""

import pytest
from django.http import Http404, HttpResponse
from django.test import RequestFactory
from django.views.debug import technical_404_response

from core.web.http import asks_for_json, local_url
from core.web.middleware import ReadableNotFoundMiddleware


@pytest.mark.parametrize(
    ("accept", "wanted"),
    [
        ("application/json", True),
        ("application/json, text/plain;q=0.5", True),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),  # a browser
        ("*/*", False),  # curl
        ("", False),
        ("application/json;q=0.5, text/html", False),
    ],
)
def test_asks_for_json(rf: RequestFactory, accept, wanted):
    assert asks_for_json(rf.post("/posts/1/like/", HTTP_ACCEPT=accept)) is wanted


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("/posts/?before=5", True),
        ("http://testserver/home/", True),
        ("https://evil.example/", False),
        ("//evil.example/", False),
        ("javascript:alert(1)", False),
        ("", False),
        (None, False),
    ],
)
def test_local_url(rf: RequestFactory, url, kept):
    assert local_url(rf.get("/"), url) == (url if kept else None)


@pytest.mark.django_db
def test_make_runs_404_is_the_sites_page_not_djangos(rf: RequestFactory, settings):
    settings.DEBUG = True
    request = rf.get("/no/such/page/", HTTP_ACCEPT_LANGUAGE="en")

    def technical(request):
        return technical_404_response(request, Http404("no pattern"))

    response = ReadableNotFoundMiddleware(technical)(request)

    assert response.status_code == 404
    text = response.content.decode()
    assert "<h1>Page not found</h1>" in text
    assert "URLconf" not in text  # Django's list of patterns


def test_other_answers_pass_through(rf: RequestFactory):
    for path, response in [
        (
            "/api/posts/9",
            HttpResponse('{"error": "No such post."}', status=404, content_type="application/json"),
        ),
        ("/posts/", HttpResponse("ok")),
    ]:
        assert ReadableNotFoundMiddleware(lambda r, x=response: x)(rf.get(path)) is response
