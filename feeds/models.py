"""Home feeds (fan-out on write) and the outbox their fan-out is driven by.

A ``FeedEntry`` says "this post is in this member's home feed". Its primary key
is ``(owner, post)``: InnoDB stores a member's feed together, in post order, so a
home page is one range read of the primary key, and a post can be in a feed at
most once whatever runs twice.

A ``FanoutJob`` is written in the same transaction as the post (or the follow)
that needs fanning out: a row of the transactional outbox (``core.outbox``). It is
queued for ``feeds.tasks.fanout`` after the commit; the sweep queues again whatever
has not finished, so a process that dies after the commit, a broker that is down
or a worker that dies mid-job delays a fan-out but never loses one.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.outbox import Outbox


class FeedEntry(models.Model):
    pk = models.CompositePrimaryKey("owner_id", "post_id")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the primary key leads with it
        verbose_name=_("owner"),
    )
    post = models.ForeignKey(
        "posts.Post",
        on_delete=models.CASCADE,  # a deleted post leaves every feed
        related_name="+",
        verbose_name=_("post"),
    )
    # Copied from the post so that unfollowing removes an author's posts from
    # one feed by reading that feed alone (at most FEED_MAX_ENTRIES rows).
    author_id = models.BigIntegerField(_("author"))

    class Meta:
        verbose_name = _("feed entry")
        verbose_name_plural = _("feed entries")

    def __str__(self) -> str:
        return f"post {self.post_id} in {self.owner_id}'s feed"


class FanoutJob(Outbox):
    class Kind(models.TextChoices):
        POST = "post", _("a new post into its author's followers' feeds")
        FOLLOW = "follow", _("a followee's recent posts into a new follower's feed")
        REFILL = "refill", _("a feed topped up after an unfollow emptied part of it")
        PUSHBACK = "pushback", _("an author back under the limit: their posts into every feed")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    post = models.ForeignKey(
        "posts.Post",
        on_delete=models.CASCADE,  # a post deleted before its fan-out needs none
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("post"),
    )
    # The post's author, the followee (follow, refill) or the author pushed back.
    author_id = models.BigIntegerField(_("author"))
    # The feed's owner: the follower (follow) or the one who unfollowed (refill).
    member_id = models.BigIntegerField(_("follower"), null=True, blank=True)
    # The last follow id whose feed has the post: a job cut off halfway resumes here.
    cursor = models.BigIntegerField(_("cursor"), default=0)

    task = "feeds.tasks.fanout"
    keep_done = timedelta(days=1)

    class Meta(Outbox.Meta):
        verbose_name = _("fan-out job")
        verbose_name_plural = _("fan-out jobs")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="post", post__isnull=False)
                | models.Q(kind__in=["follow", "refill"], member_id__isnull=False)
                | models.Q(kind="pushback"),
                name="fanout_job_kind_fields",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} job {self.pk}"


class PullAuthor(models.Model):
    """An author whose posts are read at read time instead of fanned out.

    Followers alone do not decide it: the count moves at every follow, while the
    readers' copy of this table (``feeds.services.pull_authors``) is cached. So the
    sweep (``feeds.services.pull_authors_reconcile``) writes a row when the author
    passes FEED_FANOUT_LIMIT, and posts are still pushed until ``pulled_from``, by
    which time every reader's cache pulls them; back under the limit the row stays
    (readers keep pulling) until a push-back job has put the author's posts into
    every follower's feed, and only then goes.
    """

    member = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("author"),
    )
    # Posts written from then on are not pushed (every reader pulls the author by then).
    pulled_from = models.DateTimeField(_("pulled from"))
    # Set while the author is going back to push: the job that pushes their posts back.
    pushback_job_id = models.BigIntegerField(_("push-back job"), null=True, blank=True)

    class Meta:
        verbose_name = _("pulled author")
        verbose_name_plural = _("pulled authors")

    def __str__(self) -> str:
        return f"author {self.member_id} pulled from {self.pulled_from:%Y-%m-%d %H:%M:%S}"


class FeedFloor(models.Model):
    """How far down a member's feed is whole: it holds every post it should hold newer
    than ``post_id``; older ones may have been trimmed away to keep it at its cap.

    A trim raises it to the newest post it took out; a refill or a rebuild that puts
    older posts back lowers it again. No row: nothing was ever trimmed (0). The
    checks read it, so a feed that lost an entry to a deleted post (799 left) or to
    an unfollow is not taken for one that lost a post it should show.
    """

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("owner"),
    )
    post_id = models.BigIntegerField(_("whole above post"))

    class Meta:
        verbose_name = _("feed floor")
        verbose_name_plural = _("feed floors")

    def __str__(self) -> str:
        return f"{self.owner_id}'s feed is whole above post {self.post_id}"
