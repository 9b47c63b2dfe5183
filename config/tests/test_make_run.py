"""What `make run` serves: the developer's settings (DEBUG on, the debug toolbar's SQL panel
wrapping every cursor), the demo community, and a member who logs in, posts, follows and likes.

A subprocess on a loopback port with its own SQLite file, driven over HTTP.
"""

import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from core.testing.http import Browser
from core.testing.net import free_port

BASE_DIR = Path(__file__).resolve().parents[2]


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
    browser = Browser(dev_server, timeout=30)
    response = browser.login(email="demo@example.com", password="demo-password")
    assert (response.status, response.location) == (302, "/home/")

    response = browser.post("/posts/new/", {"contents": "From the dev server ✨"})
    assert response.status == 302, response.body[:2000]
    home = browser.get("/api/me/home?size=1").json()
    assert home["posts"][0]["contents"] == "From the dev server ✨"
    post_id = home["posts"][0]["id"]

    assert browser.post(f"/posts/{post_id}/like/").status == 302
    assert browser.get(f"/api/posts/{post_id}").json()["likes"] == 1

    someone = next(
        p["member_id"]
        for p in browser.get("/api/posts").json()["posts"]
        if p["member_id"] != home["posts"][0]["member_id"]
    )
    for action in ("unfollow", "follow"):
        response = browser.post(f"/members/{someone}/{action}/")
        assert response.status == 302
    assert "djDebug" in browser.get("/home/").text()  # the toolbar was there throughout
