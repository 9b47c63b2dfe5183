"""The drill's checks find every kind of wrong: missing, twice, cut and committed twice."""

import json
from datetime import date

import pytest

from lab import drill
from members import services as members
from posts.tests.mothers import a_post

pytestmark = pytest.mark.django_db


def register(*, email: str) -> None:
    members.member_register(
        email=email, nickname=email[0], birthdate=date(1990, 1, 2), password=None
    )


def load_with(acknowledged: list[str], cut: list[str]) -> drill.Load:
    load = drill.Load(members=[], readers=0, pause=0)
    load.acknowledged = acknowledged
    load.tallies = {"app server": drill.Tally(requests=len(cut), interrupted=cut)}
    return load


def test_posts_all_there_once_lose_nothing():
    for contents in ["a", "b", "cut, committed"]:
        a_post(contents=contents)
    acknowledged, interrupted = drill.check_posts(
        load_with(["a", "b"], ["cut, committed", "cut, never written", "like"])
    )
    assert acknowledged.lost == 0
    assert interrupted.lost == 0
    assert interrupted.detail == (
        "2 posts cut in flight: 1 committed whole, 1 not at all, 0 twice; "
        "1 likes cut (counts checked below)"
    )


def test_an_acknowledged_post_missing_or_twice_is_lost():
    a_post(contents="twice")
    a_post(contents="twice")
    acknowledged, _ = drill.check_posts(load_with(["missing", "twice"], []))
    assert acknowledged.lost == 2
    assert acknowledged.detail == "2 acknowledged, 1 missing, 1 twice"


def test_a_cut_post_committed_twice_is_lost():
    a_post(contents="cut")
    a_post(contents="cut")
    _, interrupted = drill.check_posts(load_with([], ["cut"]))
    assert interrupted.lost == 1


def test_a_refused_or_doubled_mail_is_counted(tmp_path, monkeypatch):
    mailbox = tmp_path / "mailbox.jsonl"
    mailbox.write_text(
        "".join(
            json.dumps({"message_id": f"<{n}>", "to": [to], "subject": "", "accepted_at": ""})
            + "\n"
            for n, to in enumerate(["a@example.com", "b@example.com", "b@example.com"])
        )
    )
    (tmp_path / "mailbox.jsonl.stats.json").write_text(
        json.dumps({"accepted": 3, "refused": 2, "duplicates": 0})
    )
    monkeypatch.setattr(drill.cluster, "mailbox_path", lambda: mailbox)
    for email in ["a@example.com", "b@example.com", "c@example.com"]:
        register(email=email)  # each with its welcome mail queued
    mails, provider = drill.check_mail(0, ["a@example.com", "c@example.com"])
    assert mails.detail == (
        "2 sign-ups acknowledged, 3 mails queued, 2 delivered, 1 missing, 1 twice"
    )
    assert mails.lost == 2  # c's never arrived, b's arrived twice
    assert provider.lost == 2  # the provider should never have had to refuse
