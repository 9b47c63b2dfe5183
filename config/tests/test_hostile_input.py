"""What an adversarial probe found, each kept fixed: hostile input is a 4xx, never a 500."""

import io
import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client, RequestFactory, override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from core.pagination import MAX_ID
from core.web.middleware import RequestBodyMiddleware
from core.web.security import client_ip
from members.models import Member
from members.tests.mothers import PASSWORD, a_member, signup_data
from posts.models import Post
from posts.tests.mothers import a_post

pytestmark = pytest.mark.django_db


def body_middleware_answer(body: bytes, declared: int, content_type: str):
    """The middleware's answer to a body of ``body`` that declared ``declared`` bytes."""
    request = RequestFactory().post("/signup/", data=body, content_type=content_type)
    request.META["CONTENT_LENGTH"] = str(declared)
    request.META["wsgi.input"] = io.BytesIO(body)
    reached = []
    response = RequestBodyMiddleware(lambda r: reached.append(r) or "view")(request)
    return response, reached


class TestBodyCutShort:
    FORM = "application/x-www-form-urlencoded"

    def test_a_body_shorter_than_its_content_length_is_a_400(self):
        body = b"email=a%40b.example&nickname=cut&birthdate=1990-01-01"

        response, reached = body_middleware_answer(body, len(body) + 30, self.FORM)

        assert response.status_code == 400
        assert b"shorter than its Content-Length" in response.content
        assert not reached

    def test_a_whole_body_goes_on(self):
        body = b"contents=hello"
        response, reached = body_middleware_answer(body, len(body), self.FORM)
        assert response == "view"
        assert reached[0].POST["contents"] == "hello"

    def test_a_content_length_that_is_not_a_number_is_a_400(self):
        response = Client().generic(
            "POST", "/login/", b"x=1", content_type=self.FORM, CONTENT_LENGTH="abc"
        )
        assert response.status_code == 400


class TestCharset:
    @pytest.mark.parametrize("charset", ["utf8", "latin-1", "nope", "utf-16", "UTF-8x"])
    def test_a_form_in_another_charset_is_a_400_with_one_log_line(self, charset, caplog):
        client = Client(enforce_csrf_checks=True)
        client.get("/login/")
        token = client.cookies["csrftoken"].value
        caplog.set_level(logging.INFO)

        response = client.generic(
            "POST",
            "/login/",
            f"username=a%40b.example&password=x&csrfmiddlewaretoken={token}".encode(),
            content_type=f"application/x-www-form-urlencoded; charset={charset}",
        )

        assert response.status_code == 400
        assert b"UTF-8" in response.content
        assert not [r for r in caplog.records if r.exc_info]
        assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) <= 2

    def test_utf_8_in_any_case_is_fine(self, client):
        a_member(email="kim@example.com")
        response = client.post(
            "/login/",
            f"username=kim%40example.com&password={PASSWORD}".encode(),
            content_type="application/x-www-form-urlencoded; charset=UTF-8",
        )
        assert response.status_code == 302


class TestDatabaseUnavailable:
    """In-process; tests/test_served.py points a real server at a dead database."""

    @pytest.mark.parametrize("error", [OperationalError(2002, "down"), InterfaceError("gone")])
    def test_the_api_answers_503_json(self, client, error):
        with mock.patch("social.facades.timeline", side_effect=error):
            response = client.get("/api/posts")
        assert response.status_code == 503
        assert response.json() == {"error": response.json()["error"]}
        assert response["Retry-After"]

    def test_pages_answer_a_503_page_without_a_traceback(self, client):
        with mock.patch("social.facades.timeline", side_effect=OperationalError(2013, "lost")):
            response = client.get("/posts/")
        assert response.status_code == 503
        assert response["Content-Type"].startswith("text/html")
        assert b"Traceback" not in response.content
        assert b"OperationalError" not in response.content


class TestLoginThrottle:
    def attempt(self, client, email, password, ip):
        return client.post("/login/", {"username": email, "password": password}, REMOTE_ADDR=ip)

    def test_five_failures_lock_out_the_pair_with_a_429(self, client):
        a_member(email="alice@example.com")
        for _ in range(4):
            assert self.attempt(client, "alice@example.com", "wrong", "10.0.0.1").status_code == 200

        fifth = self.attempt(client, "Alice@Example.com", "wrong", "10.0.0.1")
        right_password = self.attempt(client, "alice@example.com", PASSWORD, "10.0.0.1")

        assert fifth.status_code == 429
        assert right_password.status_code == 429
        assert "Too many failed logins" in right_password.text

    def test_the_guesser_locks_out_no_one_else(self):
        a_member(email="alice@example.com")
        a_member(email="bob@example.com")
        guesser = Client()
        for _ in range(6):
            self.attempt(guesser, "alice@example.com", "wrong", "10.0.0.1")

        # Alice from elsewhere, and Bob from the guesser's own address, still get in.
        assert self.attempt(Client(), "alice@example.com", PASSWORD, "10.0.0.2").status_code == 302
        assert self.attempt(Client(), "bob@example.com", PASSWORD, "10.0.0.1").status_code == 302

    def test_the_admin_login_is_throttled_too(self, client):
        a_member(email="alice@example.com", is_staff=True)
        for _ in range(5):
            response = client.post(
                "/admin/login/", {"username": "alice@example.com", "password": "wrong"}
            )
        assert response.status_code == 429


class TestClientAddress:
    def request(self, peer="127.0.0.1", **meta):
        return RequestFactory().get("/", REMOTE_ADDR=peer, **meta)

    def test_the_peer_address_when_no_header_is_configured(self):
        assert client_ip(self.request("10.9.9.9", HTTP_X_REAL_IP="1.2.3.4")) == "10.9.9.9"

    @override_settings(CLIENT_IP_HEADER="X-Real-IP")
    def test_the_proxy_s_x_real_ip(self):
        assert client_ip(self.request(HTTP_X_REAL_IP="2001:db8::1")) == "2001:db8::1"
        assert client_ip(self.request(HTTP_X_REAL_IP="junk")) == "127.0.0.1"

    @override_settings(CLIENT_IP_HEADER="X-Real-IP")
    def test_a_client_that_is_not_the_proxy_cannot_choose_its_address(self):
        assert client_ip(self.request("10.9.9.9", HTTP_X_REAL_IP="127.0.0.1")) == "10.9.9.9"
        assert client_ip(self.request("10.9.9.9", HTTP_X_REAL_IP="1.2.3.4")) == "10.9.9.9"

    @override_settings(CLIENT_IP_HEADER="X-Real-IP", TRUSTED_PROXIES=["10.0.0.0/8"])
    def test_trusted_proxies_may_be_a_network(self):
        assert client_ip(self.request("10.9.9.9", HTTP_X_REAL_IP="1.2.3.4")) == "1.2.3.4"

    @override_settings(CLIENT_IP_HEADER="X-Real-IP")
    def test_x_forwarded_for_is_never_read(self):
        request = self.request("10.9.9.9", HTTP_X_FORWARDED_FOR="127.0.0.1")
        assert client_ip(request) == "10.9.9.9"

    def test_x_forwarded_for_cannot_be_chosen(self):
        settings = subprocess.run(
            [sys.executable, "-c", "import django; django.setup()"],
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "DEBUG": "1",
                "CLIENT_IP_HEADER": "X-Forwarded-For",
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert settings.returncode != 0
        assert "CLIENT_IP_HEADER='X-Forwarded-For' is not supported" in settings.stderr

    @override_settings(CLIENT_IP_HEADER="X-Real-IP")
    def test_forged_addresses_through_the_proxy_do_not_escape_the_login_throttle(self):
        """Five failures from one client, each with another X-Forwarded-For: locked all the same."""
        a_member(email="alice@example.com")
        proxy = Client(REMOTE_ADDR="127.0.0.1")
        for n in range(5):
            proxy.post(
                "/login/",
                {"username": "alice@example.com", "password": "wrong"},
                HTTP_X_REAL_IP="203.0.113.9",
                HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
            )
        locked = proxy.post(
            "/login/",
            {"username": "alice@example.com", "password": PASSWORD},
            HTTP_X_REAL_IP="203.0.113.9",
            HTTP_X_FORWARDED_FOR="198.51.100.77",
        )
        assert locked.status_code == 429


def test_a_logged_in_member_sent_to_the_login_page_goes_home(client):
    client.force_login(a_member())
    for url in ("/login/?next=/login/", "/login/?next=/login/%3Fnext%3D/login/", "/login/"):
        response = client.get(url)
        assert (response.status_code, response.url) == (302, "/home/"), url


def test_login_still_follows_a_safe_next(client):
    a_member(email="kim@example.com")
    response = client.post(
        "/login/?next=/me/", {"username": "kim@example.com", "password": PASSWORD, "next": "/me/"}
    )
    assert response.url == "/me/"


class TestLinksThatWork:
    @pytest.mark.parametrize("url", ["/api/posts", "/posts/"])
    def test_after_max_id_offers_only_links_that_answer(self, client, url):
        a_post()
        response = client.get(f"{url}?after={MAX_ID}")
        assert response.status_code == 200
        if url.startswith("/api/"):
            links = [response.json()["next"], response.json()["previous"]]
        else:
            links = re.findall(r'rel="(?:next|prev)" href="([^"]*)"', response.text)
        links = [link for link in links if link]
        assert links
        for link in links:
            assert client.get(link).status_code == 200, link


def all_get_urls(patterns=None, prefix=""):
    """Every URL pattern of the project, with ids filled in, that answers GET."""
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route.startswith(("admin/", "__debug__/")):
                continue
            yield from all_get_urls(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield "/" + route.replace("<int:member_id>", "{member_id}").lstrip("^").rstrip("$")


GET_URLS = sorted(set(all_get_urls()))
ADMIN_URLS = ["/admin/", "/admin/members/member/", "/admin/posts/post/"]


@pytest.mark.parametrize("url", GET_URLS + ADMIN_URLS)
def test_head_is_answered_wherever_get_is(url):
    member = a_member(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(member)
    url = url.format(member_id=member.pk)
    query = "?start=2025-01-01&end=2025-01-31" if url == "/api/me/calendar" else ""

    get = client.get(url + query)
    head = client.head(url + query)

    # A POST-only view refuses both alike (405).
    assert head.status_code == get.status_code, url
    assert head.content == b""


def test_the_head_walk_covers_the_pages():
    for url in ("/", "/posts/", "/signup/", "/login/", "/me/", "/api/posts", "/me/calendar/"):
        assert url in GET_URLS


class TestFormsBindEmptyPosts:
    def test_an_empty_signup_post_shows_errors_and_writes_nothing(self, client):
        response = client.post("/signup/", {})
        assert response.status_code == 200
        assert response.context["form"].errors["email"]
        assert not Member.objects.exists()

    def test_a_json_body_to_a_form_shows_errors_and_writes_nothing(self, client):
        client.force_login(a_member())
        response = client.post(
            "/posts/new/", {"contents": "hello"}, content_type="application/json"
        )
        assert response.status_code == 200
        assert response.context["form"].errors["contents"]
        assert not Post.objects.exists()

    def test_signup_with_a_json_body_writes_nothing(self, client):
        response = client.post("/signup/", signup_data(), content_type="application/json")
        assert response.status_code == 200
        assert not Member.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "/me/",
        "/me/calendar/",
        "/me/calendar/?year=2025",
        "/posts/new/",
        "/posts/",
        "/api/me/calendar?start=2025-01-01&end=2025-01-31",
    ],
)
def test_pages_seen_by_a_member_are_private(client, url):
    client.force_login(a_member())
    response = client.get(url)
    assert response.status_code == 200
    assert "private" in response["Cache-Control"]
    assert "no-cache" in response["Cache-Control"]


def test_anonymous_pages_are_not_marked_private(client):
    assert "private" not in client.get("/posts/").get("Cache-Control", "")


def test_every_page_has_a_content_security_policy(client):
    policy = client.get("/posts/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "object-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy


def test_the_templates_have_no_inline_scripts(client):
    member = a_member(is_staff=True, is_superuser=True)
    client.force_login(member)
    for url in ("/posts/", "/me/", "/me/calendar/?year=2025", "/admin/members/member/"):
        text = client.get(url).text
        for tag in text.split("<script")[1:]:
            head = tag.split(">")[0]
            assert "src=" in head or "application/json" in head, (url, head)


def test_a_giant_host_header_is_a_400_logged_in_one_short_line(client):
    (handler,) = [h for h in logging.getLogger("django.security").handlers if h.filters]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        response = client.get("/posts/", HTTP_HOST="h" * 8000 + ".example")
    finally:
        handler.setStream(previous)

    assert response.status_code == 400
    logged = stream.getvalue()
    assert "Invalid HTTP_HOST header" in logged
    assert "Traceback" not in logged
    assert len(logged) < 1000


@pytest.mark.parametrize(
    "query",
    ["before=1_0", "before=%D9%A3", "before=%EF%BC%95", "size=%EF%BC%95", "size=1e1"],
)
def test_cursors_take_ascii_digits_only(client, query):
    response = client.get(f"/api/posts?{query}")
    assert response.status_code == 400
    assert "whole number" in response.json()["error"]


@pytest.mark.parametrize(
    "query",
    ["year=%D9%A2%D9%A0%D9%A2%D9%A5", "year=2_025", "month=%D9%A2%D9%A0%D9%A2%D9%A5-01"],
)
def test_calendar_parameters_take_ascii_digits_only(client, query):
    client.force_login(a_member())
    assert client.get(f"/me/calendar/?{query}").status_code == 400


@pytest.mark.parametrize("start", ["%D9%A2%D9%A0%D9%A2%D9%A5-01-01", "2025-1-1", "2025-01-01x"])
def test_calendar_dates_take_one_spelling(client, start):
    client.force_login(a_member())
    response = client.get(f"/api/me/calendar?start={start}&end=2025-03-01")
    assert response.status_code == 400


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100)
def test_a_body_too_large_is_a_400():
    body = b"contents=" + b"x" * 200
    response, reached = body_middleware_answer(body, len(body), "application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert not reached


def test_a_chunked_body_without_a_content_length_is_refused_and_writes_nothing(client):
    member = a_member()
    client.force_login(member)
    response = client.generic(
        "POST",
        "/posts/new/",
        b"contents=hello",
        content_type="application/x-www-form-urlencoded",
        HTTP_TRANSFER_ENCODING="chunked",
        CONTENT_LENGTH="",
    )
    assert response.status_code == 400
    assert b"Content-Length" in response.content
    assert not Post.objects.exists()


def test_the_language_cookie_stays_on_the_site_s_own_requests(client):
    response = client.post("/i18n/setlang/", {"language": "ko", "next": "/posts/"})
    cookie = response.cookies["django_language"]
    assert (cookie.value, cookie["samesite"], cookie["httponly"]) == ("ko", "Lax", True)


def test_a_metrics_directory_not_made_yet_does_not_stop_manage_py(tmp_path):
    absent = tmp_path / "not-yet" / "metrics"
    done = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=Path(__file__).resolve().parents[2],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "1",
            "PROMETHEUS_MULTIPROC_DIR": str(absent),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert absent.is_dir()
