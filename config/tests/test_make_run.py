"""What `make run` serves: the developer's settings (DEBUG on, the debug toolbar's SQL panel
wrapping every cursor), the demo community, and a member who logs in, posts, follows and likes.

A subprocess on a loopback port with its own SQLite file, driven over HTTP.
"""

import pytest

from core.testing.http import Browser
from core.testing.served import dev_server as serve_as_make_run


@pytest.fixture
def dev_server(tmp_path):
    with serve_as_make_run(tmp_path) as base:
        yield base


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
