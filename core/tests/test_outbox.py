"""The outbox: every outbox (the fan-out's, the welcome mail's) queued after its commit,
swept when it was not, one set of names; the sweep command and the backlog."""

from datetime import date
from io import StringIO

import pytest
from django.core import mail as sent_mail
from django.core.management import call_command
from django.utils import timezone

from core import outbox
from feeds.models import FanoutJob, FeedEntry
from follows import services as follows
from members import services as members
from members.models import OutboundMail
from social.tests.mothers import a_member, publish

pytestmark = pytest.mark.django_db


def test_every_outbox_model_is_found_with_its_task():
    found = {m._meta.label: m.task for m in outbox.outbox_models()}
    assert found == {
        "feeds.FanoutJob": "feeds.tasks.fanout",
        "members.OutboundMail": "members.tasks.send_mail",
        "members.MemberRemoval": "social.tasks.remove_member",
    }


def _lost_rows():
    """A fan-out and a welcome mail whose sends never ran (the process died after COMMIT)."""
    star, fan = a_member(), a_member()
    follows.follow_add(follower_id=fan.pk, followee_id=star.pk)
    post = publish(star)
    members.member_register(
        email="kim@example.com", nickname="kim", birthdate=date(1990, 1, 2), password=None
    )
    return post


def _age(model, **delta) -> None:
    model.objects.update(created_at=timezone.now() - timezone.timedelta(**delta), queued_at=None)


@pytest.mark.parametrize(
    ("seconds", "queued"),
    [
        (outbox.QUEUE_AGAIN_AFTER.total_seconds() - 5, 0),
        (outbox.QUEUE_AGAIN_AFTER.total_seconds() + 5, 1),
    ],
)
def test_a_row_never_queued_is_swept_once_it_is_older_than_the_bound(seconds, queued):
    _lost_rows()
    _age(FanoutJob, seconds=seconds)
    _age(OutboundMail, seconds=seconds)
    assert outbox.outbox_sweep() == {
        "feeds.FanoutJob": queued,
        "members.OutboundMail": queued,
        "members.MemberRemoval": 0,
    }


@pytest.mark.parametrize("model", [FanoutJob, OutboundMail])
def test_a_row_queued_but_not_done_is_swept_after_its_models_bound(model):
    _lost_rows()
    label = model._meta.label
    just_before = timezone.now() - model.resend_after + timezone.timedelta(seconds=5)
    just_after = timezone.now() - model.resend_after - timezone.timedelta(seconds=5)
    model.objects.update(created_at=just_after, queued_at=just_before)
    assert outbox.outbox_sweep()[label] == 0  # it may still be waiting in the queue
    model.objects.update(queued_at=just_after)
    assert outbox.outbox_sweep()[label] == 1
    assert outbox.outbox_pending(model) == []  # in-process: done at once
    row = model.objects.get()
    assert row.queued_at > just_after
    assert row.done_at is not None
    model.objects.update(queued_at=just_after)
    assert outbox.outbox_sweep()[label] == 0  # done rows are never swept again


def test_the_command_sweeps_every_outbox():
    post = _lost_rows()
    _age(FanoutJob, minutes=2)
    _age(OutboundMail, minutes=2)
    out = StringIO()
    call_command("outbox_sweep", stdout=out)
    assert "feeds.FanoutJob: 1 queued again" in out.getvalue()
    assert "members.OutboundMail: 1 queued again" in out.getvalue()
    assert FeedEntry.objects.filter(post=post).count() == 2
    assert [m.to for m in sent_mail.outbox] == [["kim@example.com"]]


def test_done_fan_out_jobs_are_forgotten_after_a_day_mails_are_kept():
    _lost_rows()
    a_day_ago = timezone.now() - FanoutJob.keep_done - timezone.timedelta(seconds=5)
    FanoutJob.objects.update(done_at=a_day_ago)
    OutboundMail.objects.update(done_at=a_day_ago)
    outbox.outbox_sweep()
    assert not FanoutJob.objects.exists()
    assert OutboundMail.objects.count() == 1


def test_the_backlog_counts_rows_not_done_and_the_oldest_age():
    assert {b.model: (b.pending, b.oldest_seconds) for b in outbox.outbox_backlog()} == {
        "feeds.FanoutJob": (0, 0.0),
        "members.OutboundMail": (0, 0.0),
        "members.MemberRemoval": (0, 0.0),
    }
    _lost_rows()
    _age(FanoutJob, minutes=3)
    backlog = {b.model: b for b in outbox.outbox_backlog()}
    assert backlog["feeds.FanoutJob"].pending == 1
    assert 170 < backlog["feeds.FanoutJob"].oldest_seconds < 200
    assert backlog["members.OutboundMail"].pending == 1


def test_done_marks_once():
    _lost_rows()
    job = FanoutJob.objects.get()
    assert outbox.outbox_done(FanoutJob, job.pk) is True
    assert outbox.outbox_done(FanoutJob, job.pk) is False
