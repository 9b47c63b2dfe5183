"""What `make run` serves: the developer's settings (DEBUG on, the debug toolbar's SQL panel
wrapping every cursor), the demo community, and a member who logs in, posts, follows and likes.

A subprocess on a loopback port with its own SQLite file, driven over HTTP.
"""

import http.cookiejar
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from config.net import free_port

BASE_DIR = Path(__file__).resolve().parents[2]


class Browser:
    """Cookies, the CSRF token and a Referer, as a browser would send them."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )

    def get(self, path: str):
        return self.opener.open(self.base + path, timeout=30)

    def post(self, path: str, form_page: str, **fields):
        page = self.get(form_page).read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
        request = urllib.request.Request(
            self.base + path, data=data, headers={"Referer": self.base + form_page}
        )
        try:
            return self.opener.open(request, timeout=30)
        except urllib.error.HTTPError as error:
            return error


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the test reads the 302 itself

    def http_error_302(self, req, fp, code, msg, headers):
        return fp


@pytest.fixture
def dev_server(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DEBUG": "1",
        "DEBUG_TOOLBAR": "1",
        "SECRET_KEY": "",
        "CELERY_BROKER_URL": "",
    }
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "-v0"], ["seed_demo"]):
        subprocess.run([*manage, *command], cwd=BASE_DIR, env=env, check=True, timeout=300)
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [*manage, "runserver", "--noreload", "--skip-checks", f"127.0.0.1:{port}"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/posts/", timeout=2)
            break
        except OSError:
            time.sleep(0.2)
    yield base
    server.terminate()
    server.wait(timeout=30)
    log.close()
    print((tmp_path / "server.log").read_text()[-5000:])  # shown when the test fails


def test_the_demo_member_logs_in_posts_follows_and_likes(dev_server):
    browser = Browser(dev_server)
    response = browser.post(
        "/login/", "/login/", username="demo@example.com", password="demo-password"
    )
    assert (response.status, response.headers["Location"]) == (302, "/home/")

    response = browser.post("/posts/new/", "/posts/new/", contents="From the dev server ✨")
    assert response.status == 302, response.read()[:2000]
    home = json.load(browser.get("/api/me/home?size=1"))
    assert home["posts"][0]["contents"] == "From the dev server ✨"
    post_id = home["posts"][0]["id"]

    assert browser.post(f"/posts/{post_id}/like/", "/home/").status == 302
    assert json.load(browser.get(f"/api/posts/{post_id}"))["likes"] == 1

    someone = next(
        p["member_id"]
        for p in json.load(browser.get("/api/posts"))["posts"]
        if p["member_id"] != home["posts"][0]["member_id"]
    )
    for action in ("unfollow", "follow"):
        response = browser.post(f"/members/{someone}/{action}/", "/home/")
        assert response.status == 302
    assert "djDebug" in browser.get("/home/").read().decode()  # the toolbar was there throughout
