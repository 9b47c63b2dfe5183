"""Every writer of feed rows bumps the stamps of the feeds it wrote, after its commit.

A member's kept home is good while its feed's stamp is unchanged
(core/web/pagecache.py): a writer that forgot would leave the home showing what
the feed no longer holds, or not showing what it now holds, for the page's
lifetime. Each test reads the stamps of the feeds concerned and of one that is
not, runs one writer with its transaction committed, and reads them again: the
first must have changed, the bystander's not.
"""

from __future__ import annotations

import threading

import pytest
from django.db import transaction

from core.cache import stamps_read
from core.web.pagecache import feed_scope
from feeds import fanout, services
from feeds.models import FanoutJob
from feeds.tests.mothers import a_member, feed_of, follow, publish, pull_authors_settled
from feeds.tests.test_races import in_thread
from posts import services as posts
from social import usecases

pytestmark = pytest.mark.django_db(transaction=True)


def run_jobs(sent: list[int]) -> None:
    while sent:
        fanout.fanout_run(job_id=sent.pop(0))


def stamps(*members) -> list[str]:
    current, _ = stamps_read([feed_scope(m.pk) for m in members])
    return current


class Stamps:
    """The feed stamps of ``changed`` and of a ``bystander``, before and after a write."""

    def __init__(self, changed: list, bystander):
        self.changed, self.bystander = changed, bystander
        self.before = stamps(*changed)
        self.bystander_before = stamps(bystander)

    def check(self) -> None:
        after = stamps(*self.changed)
        for member, old, new in zip(self.changed, self.before, after, strict=True):
            assert old != new, f"member {member.pk}'s feed was written and its stamp kept"
        assert stamps(self.bystander) == self.bystander_before, "a feed not written was bumped"


@pytest.fixture
def author(held_jobs):
    author = a_member()
    publish(author, "first")
    run_jobs(held_jobs)
    return author


@pytest.fixture
def readers(author, held_jobs):
    readers = [a_member(), a_member()]
    for reader in readers:
        follow(reader, author)
    run_jobs(held_jobs)
    return readers


@pytest.fixture
def bystander():
    return a_member()


def test_a_post_in_its_authors_own_feed(author, bystander):
    watch = Stamps([author], bystander)
    publish(author, "mine")
    watch.check()


def test_a_fanout_chunk(author, readers, bystander, held_jobs):
    publish(author, "fanned out")
    watch = Stamps(readers, bystander)
    run_jobs(held_jobs)
    assert all(feed_of(r)[0] == feed_of(author)[0] for r in readers)
    watch.check()


def test_a_fanout_of_many_chunks(author, readers, bystander, held_jobs):
    post = publish(author, "two chunks")
    [job_id] = held_jobs
    watch = Stamps(readers, bystander)
    fanout.fanout_run(job_id=job_id, chunk_size=1)  # one reader per chunk
    assert all(post.pk in feed_of(r) for r in readers)
    watch.check()


def test_a_follows_backfill(author, bystander, held_jobs):
    reader = a_member()
    follow(reader, author)
    watch = Stamps([reader], bystander)  # after the follow: the backfill alone
    run_jobs(held_jobs)
    assert feed_of(reader)
    watch.check()


def test_an_unfollow(author, readers, bystander, held_jobs):
    watch = Stamps(readers[:1], bystander)
    usecases.unfollow(follower_id=readers[0].pk, followee_id=author.pk)
    assert feed_of(readers[0]) == []
    watch.check()


def test_the_refill_after_an_unfollow_at_the_cap(settings, author, bystander, held_jobs):
    settings.FEED_MAX_ENTRIES = 2
    other = a_member()
    for i in range(3):
        publish(other, f"other {i}")
    publish(author, "newest")
    reader = a_member()
    follow(reader, author)
    follow(reader, other)
    run_jobs(held_jobs)
    usecases.unfollow(follower_id=reader.pk, followee_id=author.pk)
    assert [FanoutJob.objects.get(pk=j).kind for j in held_jobs] == [FanoutJob.Kind.REFILL]
    watch = Stamps([reader], bystander)  # after the unfollow: the refill alone
    run_jobs(held_jobs)
    assert len(feed_of(reader)) == 2
    watch.check()


def test_a_push_back(settings, author, readers, bystander, held_jobs):
    settings.FEED_FANOUT_LIMIT = 1
    pull_authors_settled()
    publish(author, "pulled")  # not pushed
    run_jobs(held_jobs)
    settings.FEED_FANOUT_LIMIT = 10
    services.pull_authors_reconcile()  # back under the limit: a push-back job
    watch = Stamps(readers, bystander)
    run_jobs(held_jobs)
    assert all(len(feed_of(r)) == 2 for r in readers)
    watch.check()


def test_a_feed_cleared(author, readers, bystander):
    """A removal's last step, the member's own feed (their other sessions' kept homes)."""
    watch = Stamps(readers[:1], bystander)
    assert services.feed_clear(owner_id=readers[0].pk, limit=100) == 1
    watch.check()


def test_a_repair(author, readers, bystander):
    services.feed_clear(owner_id=readers[0].pk, limit=100)
    watch = Stamps(readers[:1], bystander)
    services.feed_rebuild(member_id=readers[0].pk)
    assert feed_of(readers[0])
    watch.check()


def test_a_repair_that_takes_rows_out(author, readers, bystander):
    stranger = a_member()
    services.feed_add_posts(owner_id=stranger.pk, post_ids=feed_of(author), author_id=author.pk)
    watch = Stamps([stranger], bystander)
    assert services.feed_repair(member_id=stranger.pk).extra
    assert feed_of(stranger) == []
    watch.check()


def test_a_repair_with_nothing_wrong_bumps_nothing(author, readers):
    before = stamps(*readers)
    services.feed_repair(member_id=readers[0].pk)
    assert stamps(*readers) == before


def test_a_trim(author, readers, bystander, held_jobs):
    publish(author, "second")
    run_jobs(held_jobs)
    watch = Stamps(readers[:1], bystander)
    assert services.feed_trim(owner_id=readers[0].pk, keep=1) == 1
    watch.check()
    untouched = stamps(readers[0])
    assert services.feed_trim(owner_id=readers[0].pk, keep=1) == 0
    assert stamps(readers[0]) == untouched  # nothing taken out, nothing bumped


def test_a_post_deleted_by_its_author(author, readers, bystander):
    [post_id] = feed_of(author)
    watch = Stamps([author, *readers], bystander)
    usecases.post_remove(member_id=author.pk, post_id=post_id)
    assert all(feed_of(r) == [] for r in readers)
    watch.check()


def test_a_post_deleted_by_the_posts_service(author, readers, bystander):
    """The admin's and the labs' path: the rows go by foreign key all the same."""
    [post_id] = feed_of(author)
    watch = Stamps(readers, bystander)
    assert posts.post_delete(post_id=post_id)
    watch.check()


def test_a_members_removal(author, readers, bystander):
    watch = Stamps(readers, bystander)
    assert usecases.member_remove(member_id=author.pk)
    assert all(feed_of(r) == [] for r in readers)
    watch.check()


def test_the_stamp_read_inside_the_writing_transaction_is_replaced_at_its_commit(
    author, readers, bystander
):
    """A reader that renders while the rows are not yet committed keeps a page under the
    stamp it read; the bump after the commit makes that page stale too."""
    post = posts.post_write(member_id=author.pk, contents="late")
    with transaction.atomic():
        services.feed_add(owner_ids=[readers[0].pk], post_id=post.pk, author_id=author.pk)
        during = stamps(readers[0])
    assert stamps(readers[0]) != during


@pytest.mark.mysql
def test_a_deletion_waits_for_a_fanout_writing_its_post(author, readers, monkeypatch):
    """A chunk that has written the post's rows and not committed holds the post (its
    foreign key check); the deletion locks the post before it reads which feeds to
    bump, so it waits and bumps the chunk's feeds too, after their rows go."""
    post = posts.post_write(member_id=author.pk, contents="raced")
    bumped: list[set[int]] = []
    real = services.pages_changed
    monkeypatch.setattr(
        services,
        "pages_changed",
        lambda *, feeds: bumped.append(set(feeds)) or real(feeds=feeds),
    )
    inserted, release = threading.Event(), threading.Event()

    def chunk():
        with transaction.atomic():
            owners = [r.pk for r in readers]
            services.feed_add(owner_ids=owners, post_id=post.pk, author_id=author.pk)
            inserted.set()
            release.wait(10)

    writer, errors = in_thread(chunk)
    assert inserted.wait(10)
    bumped.clear()  # the chunk's own bump
    deleter, delete_errors = in_thread(lambda: posts.post_delete(post_id=post.pk))
    deleter.join(0.3)
    assert deleter.is_alive(), "the deletion did not wait for the chunk holding its post"
    release.set()
    writer.join(10)
    deleter.join(10)
    assert not errors
    assert not delete_errors
    assert {r.pk for r in readers} <= set().union(*bumped)
    assert all(post.pk not in feed_of(r) for r in readers)
