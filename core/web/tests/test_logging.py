"""Each log line is printed once: one handler, on the root logger; each carries the
request's id, which comes back to the client."""

import io
import logging
import re

import pytest


def test_django_loggers_end_at_the_root_handler_only():
    # (pytest adds capturing handlers to the root, so only Django's side is checked.)
    for name in ("django", "django.server", "django.request", "django.db.backends"):
        logger = logging.getLogger(name)
        assert logger.handlers == [], name
        assert logger.propagate, name


@pytest.fixture
def log_lines():
    """What the root handler prints (its real format and filters) during the test."""
    [handler] = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    stream = io.StringIO()
    saved = handler.setStream(stream)
    yield lambda: stream.getvalue().splitlines()
    handler.setStream(saved)


NGINX_ID = "0f8e2d4c6b1a49e7a3c5d7f9e1b3a5c7"  # nginx's $request_id: 32 hex characters


def test_the_request_id_comes_back_and_is_in_the_request_s_log_lines(client, log_lines):
    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID=NGINX_ID)

    assert response.status_code == 404
    assert response["X-Request-ID"] == NGINX_ID
    [line] = [line for line in log_lines() if "Not Found" in line]
    assert re.fullmatch(
        rf"\d{{4}}-\d\d-\d\d [\d:,]+ WARNING \[{NGINX_ID}\] django.request: .*", line
    )


def test_without_an_id_the_request_gets_one(client):
    response = client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_a_line_outside_any_request_says_so(log_lines):
    logging.getLogger("config.tests").warning("between requests")
    assert "WARNING [-] config.tests: between requests" in log_lines()[-1]


@pytest.mark.parametrize("hostile", ["a" * 5000, "x\u00e9<script>" * 10, "1; DROP TABLE"])
def test_a_hostile_id_is_replaced_and_not_repeated_at_length(client, hostile, log_lines):
    # django-guid's warning quotes what was sent; the django_guid logger is one-line.
    [handler] = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    one_line = logging.getLogger("django_guid").handlers[0]
    saved = one_line.setStream(handler.stream)
    try:
        response = client.get("/healthz", HTTP_X_REQUEST_ID=hostile)
    finally:
        one_line.setStream(saved)

    assert response.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert hostile not in "\n".join(log_lines())
    assert all(len(line) < 500 for line in log_lines())


@pytest.mark.parametrize(
    "hostile",
    [
        "urn:uuid:" * 2000 + NGINX_ID,  # uuid.UUID() strips one prefix; Python's strips many
        "urn:uuid:" + NGINX_ID,
        "{" + NGINX_ID + "}",
        NGINX_ID + "\x85",  # NEL: a line break to some log readers
        NGINX_ID[:31],
        NGINX_ID + "0",
    ],
)
def test_only_a_plain_uuid_is_kept_as_the_request_id(client, hostile):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=hostile)
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert response["X-Request-ID"] != NGINX_ID


def test_a_uuid_with_dashes_is_kept(client):
    dashed = "0f8e2d4c-6b1a-49e7-a3c5-d7f9e1b3a5c7"
    assert client.get("/healthz", HTTP_X_REQUEST_ID=dashed)["X-Request-ID"] == dashed


@pytest.mark.parametrize("injected", ["%0A", "%0D%0A", "%C2%85", "%E2%80%A8", "%1B[2J"])
def test_a_path_with_a_line_break_writes_one_line(client, log_lines, injected):
    """The body middleware refuses the request and logs its path: escaped, one line."""
    forged = "2026-01-01 00:00:00,000 ERROR [-] django.security: forged"
    response = client.generic(
        "POST",
        f"/posts/new/{injected}{forged.replace(' ', '%20')}",
        b"contents=x",
        content_type="application/x-www-form-urlencoded; charset=latin-1",
    )
    assert response.status_code == 400
    lines = log_lines()
    [line] = [line for line in lines if "core.web.middleware" in line]
    assert "forged" in line
    assert not any(line.startswith("2026-01-01") for line in lines)


def test_escape_keeps_korean_and_escapes_controls():
    from core.web.logs import escape

    assert escape("안녕\n\x1b\u2028é") == "안녕\\n\\x1b\\u2028é"
