"""One HTTP client for what drives a running server over a socket: the served tests, the
cluster's smoke test, `make run`'s test and the drill.

A ``Browser`` keeps its cookies (the session and the CSRF token) as a browser does,
sends the token and a Referer with every form, and does not follow redirects, so a
caller reads a 302 and its Location itself. Each request is one connection
(``Connection: close``): a server killed between two requests fails only the request
it was answering.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse
from dataclasses import dataclass
from typing import Any

CSRF_COOKIE = "csrftoken"


@dataclass(frozen=True)
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")

    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)


class Browser:
    """One visitor of the server at ``base`` (``http://host:port``)."""

    def __init__(self, base: str, *, timeout: float = 15):
        parts = urllib.parse.urlsplit(base)
        self.base = f"{parts.scheme}://{parts.netloc}"
        self.address = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.timeout = timeout
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        *,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """Send one request; raises OSError when the connection fails (refused, cut, timed out)."""
        sent = {"Host": urllib.parse.urlsplit(self.base).netloc, "Connection": "close"}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        sent.update(headers or {})
        connection = http.client.HTTPConnection(*self.address, timeout=self.timeout)
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            content = response.read()
        finally:
            connection.close()
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return Response(response.status, response.headers, content)

    def get(self, path: str, **headers: str) -> Response:
        return self.request("GET", path, headers=headers)

    def post(self, path: str, form: dict[str, str] | None = None) -> Response:
        """POST a form as the page at ``path`` would: with the CSRF token, from that page.

        A visitor who has no token yet gets one first, by opening the page.
        """
        if CSRF_COOKIE not in self.cookies:
            self.get(path)
        fields = {**(form or {}), "csrfmiddlewaretoken": self.cookies.get(CSRF_COOKIE, "")}
        return self.request("POST", path, form=fields, headers={"Referer": self.base + path})

    def signup(
        self, *, email: str, password: str, nickname: str = "visitor", birthdate: str = "1990-01-01"
    ) -> Response:
        """Sign up through the form; a 302 (and a session cookie) when it worked."""
        return self.post(
            "/signup/",
            {
                "email": email,
                "nickname": nickname,
                "birthdate": birthdate,
                "password1": password,
                "password2": password,
            },
        )

    def login(self, *, email: str, password: str) -> Response:
        return self.post("/login/", {"username": email, "password": password})
