"""The site's own error pages (with DEBUG off, as in production) and the favicon."""

from datetime import datetime

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.views import defaults

from members.tests.mothers import a_member

pytestmark = pytest.mark.django_db


def test_the_suite_runs_with_debug_off():
    assert settings.DEBUG is False  # or Django would show its debug pages instead


def test_404_has_the_site_layout(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert 'class="site-header"' in response.text
    assert "Page not found" in response.text
    assert 'href="/posts/"' in response.text


def test_404_in_korean(client):
    response = client.get("/no/such/page/", HTTP_ACCEPT_LANGUAGE="ko")
    assert "페이지를 찾을 수 없습니다" in response.text


def test_404_for_no_such_member_keeps_the_layout(client):
    response = client.get("/members/999999/posts/")
    assert response.status_code == 404
    assert 'class="site-header"' in response.text


@pytest.mark.parametrize(
    ("view", "status", "text"),
    [
        (defaults.bad_request, 400, "Bad request"),
        (defaults.permission_denied, 403, "Not allowed"),
    ],
)
def test_400_and_403_have_the_site_layout(view, status, text):
    request = RequestFactory().get("/somewhere/")
    request.user = a_member()
    request.session = {}
    response = view(request, exception=Exception())
    assert response.status_code == status
    assert 'class="site-header"' in response.content.decode()
    assert text in response.content.decode()


def test_500_renders_without_a_request_context_or_database(django_assert_num_queries):
    # Django renders 500.html with an empty context; it must not need the session,
    # the user or any query.
    with django_assert_num_queries(0):
        response = defaults.server_error(RequestFactory().get("/"))
    page = response.content.decode()
    assert response.status_code == 500
    assert 'class="site-header"' in page
    assert "Something went wrong" in page
    assert "site.css" in page


def test_favicon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response.url.endswith("favicon.svg")
    assert client.get(response.url).status_code == 200
    assert client.head("/favicon.ico").status_code == 302
    assert 'rel="icon"' in client.get("/posts/").text


def test_korean_times_put_the_marker_first():
    moment = timezone.make_aware(datetime(2026, 11, 25, 7, 16))
    with translation.override("ko"):
        assert date_format(moment, "DATETIME_FORMAT") == "2026년 11월 25일 오전 7:16"
    with translation.override("en"):
        assert date_format(moment, "DATETIME_FORMAT") == "Nov. 25, 2026, 7:16 a.m."
