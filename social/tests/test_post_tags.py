"""The post items' markup: exact (the first hour's hooks for actions.js included),
for a visitor and a member, their own post and one they like, whatever the memo holds."""

import datetime
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.utils import translation

from social.facades import TimelineEntry
from social.templatetags import post_tags

UTC = datetime.UTC
ENTRIES = [
    TimelineEntry(
        11,
        3,
        "kim & <b>",
        "line one\nline <two> & 'three' \"q\"",
        datetime.datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC),
        0,
        False,
    ),
    TimelineEntry(12, 4, "", "x", datetime.datetime(2025, 12, 31, 23, 59, tzinfo=UTC), 7, True),
    TimelineEntry(13, 4, "lee", "y", datetime.datetime(2026, 1, 1, tzinfo=UTC), 2, False),
]
GOLDEN = Path(__file__).parent / "golden"
VISITOR = (GOLDEN / "post_items_visitor.html").read_text().removesuffix("\n")
MEMBER = (GOLDEN / "post_items_member.html").read_text().removesuffix("\n")


class Member:
    pk = 4
    is_authenticated = True


@pytest.mark.parametrize("user", [AnonymousUser(), Member()], ids=["visitor", "member"])
def test_the_markup_is_exact_and_the_same_from_the_memo(user, monkeypatch):
    monkeypatch.setattr(post_tags, "get_token", lambda request: "TOKEN")
    request = RequestFactory().get("/posts/?before=99&size=5&x=<y>&z='q'")
    request.user = user
    expected = MEMBER if user.is_authenticated else VISITOR
    with translation.override("en"):
        assert post_items(request) == expected  # built
        assert post_items(request) == expected  # from the memo


def test_a_new_nickname_and_count_show_though_the_post_is_kept(monkeypatch):
    request = RequestFactory().get("/posts/")
    request.user = AnonymousUser()
    with translation.override("en"):
        post_items(request)
        changed = [TimelineEntry(13, 4, "renamed", "y", ENTRIES[2].created_at, 9, False)]
        html = str(post_tags.post_items({"request": request}, changed))
    assert ">renamed</a>" in html
    assert '<span class="likes">9</span>' in html


def post_items(request) -> str:
    return str(post_tags.post_items({"request": request}, ENTRIES))
