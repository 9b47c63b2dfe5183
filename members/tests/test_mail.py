"""The welcome email: one outbox row per sign-up, sent after the commit, never
lost and never sent twice. Tasks run in-process (no broker) into Django's
locmem mailbox, except where the point is a real socket."""

import re
import smtplib
import socket
import threading
from datetime import date

import pytest
from django.core import mail as outbox
from django.core.cache.backends.locmem import LocMemCache
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.utils import timezone, translation
from kombu.exceptions import OperationalError as BrokerDown

from core.outbox import outbox_pending, outbox_sweep
from members import mail, services, tasks
from members.models import OutboundMail
from members.tests.mothers import PASSWORD

pytestmark = pytest.mark.django_db


def pending() -> list[int]:
    return outbox_pending(OutboundMail)


def sweep() -> int:
    """How many welcome emails the outbox sweep queued again."""
    return outbox_sweep()["members.OutboundMail"]


def register(email: str = "kim@example.com", **fields):
    return services.member_register(
        email=email, nickname="kim", birthdate=date(1990, 1, 2), password=PASSWORD, **fields
    )


def age_mails(minutes: int = 10) -> None:
    """Make every pending mail look queued long ago, as the sweeper sees a lost one."""
    earlier = timezone.now() - timezone.timedelta(minutes=minutes)
    OutboundMail.objects.update(created_at=earlier, queued_at=None)


RATE_LIMITED = smtplib.SMTPDataError(451, b"4.7.1 Rate limit exceeded")


class Refusing(LocmemBackend):
    """A provider that refuses the next ``refusals`` messages with ``error``."""

    refusals = 0
    error: smtplib.SMTPException = RATE_LIMITED

    def send_messages(self, messages):
        if Refusing.refusals:
            Refusing.refusals -= 1
            raise Refusing.error
        return super().send_messages(messages)


@pytest.fixture
def refusing(settings):
    settings.EMAIL_BACKEND = f"{__name__}.Refusing"
    yield Refusing
    Refusing.refusals, Refusing.error = 0, RATE_LIMITED


class TestSignUp:
    def test_writes_one_row_and_sends_after_the_commit(self, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            member = register()
        row = OutboundMail.objects.get()
        assert (row.member_id, row.to, row.done_at) == (member.pk, "kim@example.com", None)
        assert outbox.outbox == []  # nothing leaves before the commit

        for callback in callbacks:
            callback()

        [message] = outbox.outbox
        assert message.to == ["kim@example.com"]
        assert message.subject == "Welcome to SNS, kim"
        assert "Hello kim" in message.body
        assert message.extra_headers["Message-ID"] == mail.message_id(row)
        row.refresh_from_db()
        assert row.done_at is not None
        assert pending() == []

    def test_in_the_language_of_the_sign_up(self, django_capture_on_commit_callbacks):
        with translation.override("ko"), django_capture_on_commit_callbacks(execute=True):
            register()
        with translation.override("fr"), django_capture_on_commit_callbacks(execute=True):
            register(email="lee@example.com")

        assert list(OutboundMail.objects.order_by("id").values_list("language", flat=True)) == [
            "ko",
            "en",  # a language the site does not speak: English
        ]
        korean, english = outbox.outbox
        assert korean.subject == "SNS에 오신 것을 환영합니다, kim님"
        assert english.subject == "Welcome to SNS, kim"

    def test_the_message_id_is_the_same_for_every_attempt_and_unlike_others(self):
        first, second = register(), register(email="lee@example.com")
        rows = list(OutboundMail.objects.order_by("id"))
        assert [r.member_id for r in rows] == [first.pk, second.pk]
        ids = [mail.message_id(r) for r in rows]
        assert ids == [mail.message_id(OutboundMail.objects.get(pk=r.pk)) for r in rows]
        assert ids[0] != ids[1]
        assert re.fullmatch(rf"<welcome-{rows[0].pk}\.\d{{14}}@sns\.example>", ids[0])

    def test_backdated_members_get_no_mail(self, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            register(at=timezone.now() - timezone.timedelta(days=30))  # demo data
        assert OutboundMail.objects.count() == 0
        assert outbox.outbox == []


class TestNothingLost:
    def test_queued_while_the_broker_is_down_the_sweeper_sends_it(
        self, monkeypatch, django_capture_on_commit_callbacks
    ):
        def down(*args, **kwargs):
            raise BrokerDown("[Errno 111] Connection refused")

        monkeypatch.setattr(tasks.send_mail, "apply_async", down)
        with django_capture_on_commit_callbacks(execute=True):
            member = register()  # no error for the member signing up
        assert services.member_get(member_id=member.pk) is not None
        [waiting] = pending()
        assert sweep() == 0  # not stale yet

        age_mails()
        assert sweep() == 0  # still down: nothing queued, it stays pending
        assert pending() == [waiting]

        monkeypatch.undo()  # the broker is back
        age_mails()
        assert sweep() == 1
        assert len(outbox.outbox) == 1
        assert pending() == []
        age_mails()
        assert sweep() == 0  # sent mail is never swept again

    def test_never_queued_goes_again_after_seconds_queued_after_minutes(
        self, monkeypatch, django_capture_on_commit_callbacks
    ):
        def down(*args, **kwargs):
            raise BrokerDown("[Errno 111] Connection refused")

        with django_capture_on_commit_callbacks(execute=True):
            register("queued@example.com")  # reached the queue, still waiting there
        monkeypatch.setattr(tasks.send_mail, "apply_async", down)
        with django_capture_on_commit_callbacks(execute=True):
            register("stranded@example.com")
        monkeypatch.undo()
        queued = OutboundMail.objects.get(to="queued@example.com")
        stranded = OutboundMail.objects.get(to="stranded@example.com")
        queued.done_at = None  # as if the worker had not got to it yet
        queued.save()
        assert queued.queued_at is not None
        assert stranded.queued_at is None

        a_minute_ago = timezone.now() - timezone.timedelta(minutes=1)
        OutboundMail.objects.update(created_at=a_minute_ago, queued_at=a_minute_ago)
        OutboundMail.objects.filter(pk=stranded.pk).update(queued_at=None)
        assert sweep() == 1  # the stranded one only: the queued one may still be coming
        stranded.refresh_from_db()
        assert stranded.done_at is not None

    def test_a_process_that_dies_after_the_commit_loses_nothing(self):
        register()  # on_commit never runs: the process died right after COMMIT
        age_mails()
        assert sweep() == 1
        assert [m.to for m in outbox.outbox] == [["kim@example.com"]]

    def test_a_mail_delivered_twice_is_sent_once(self):
        register()
        [mail_id] = pending()

        assert mail.mail_deliver(mail_id=mail_id) is True
        assert mail.mail_deliver(mail_id=mail_id) is False  # the message, redelivered
        tasks.send_mail.delay(mail_id)  # and once more through the queue

        assert len(outbox.outbox) == 1

    def test_a_member_deleted_before_the_mail_went_needs_none(self):
        member = register()
        services.member_delete(member_id=member.pk)
        age_mails()
        assert sweep() == 0
        assert outbox.outbox == []


class TestTheProviderSaysNotNow:
    def test_a_451_is_retried_and_the_mail_sent_once(
        self, refusing, django_capture_on_commit_callbacks
    ):
        refusing.refusals = 1
        with django_capture_on_commit_callbacks(execute=True):
            register()
        assert refusing.refusals == 0  # it was refused once ...
        assert len(outbox.outbox) == 1  # ... and sent on the retry
        assert pending() == []

    def test_refused_every_time_in_process_it_waits_for_the_sweeper(
        self, refusing, django_capture_on_commit_callbacks
    ):
        refusing.refusals = 100
        with django_capture_on_commit_callbacks(execute=True):
            register()  # a few tries in-process, no error, no endless loop
        assert refusing.refusals == 100 - tasks.EAGER_TRIES
        assert len(pending()) == 1

        refusing.refusals = 0  # the provider takes mail again
        age_mails()
        assert sweep() == 1
        assert len(outbox.outbox) == 1

    def test_a_closed_port_is_a_temporary_failure(self, settings):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            closed_port = s.getsockname()[1]
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port
        register()
        [mail_id] = pending()

        with pytest.raises(mail.MailDeferred):
            mail.mail_deliver(mail_id=mail_id)
        assert pending() == [mail_id]

    def test_an_address_refused_for_good_is_not_tried_again(self, refusing):
        register()
        [mail_id] = pending()
        refusing.refusals = 1
        refusing.error = smtplib.SMTPRecipientsRefused(
            {"kim@example.com": (550, b"5.1.1 No such user")}
        )

        assert mail.mail_deliver(mail_id=mail_id) is False
        assert OutboundMail.objects.get(pk=mail_id).failed_at is not None
        age_mails()
        assert sweep() == 0

    def test_other_permanent_refusals_leave_it_pending(self, refusing):
        register()
        [mail_id] = pending()
        refusing.refusals = 1
        # A refusal of our own configuration, not of this mail.
        refusing.error = smtplib.SMTPSenderRefused(554, b"5.7.1 Sender not allowed", "x@y")

        with pytest.raises(smtplib.SMTPSenderRefused):
            mail.mail_deliver(mail_id=mail_id)
        assert pending() == [mail_id]


class Clock:
    """``time.time`` and ``time.sleep`` of members.mail: sleeping moves it on."""

    def __init__(self, now: float):
        self.now = now
        self.slept_until: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept_until.append(self.now)


@pytest.fixture
def clock(monkeypatch, settings):
    settings.MAIL_PROVIDER_RATE = 4
    frozen = Clock(1_000_000.1)
    monkeypatch.setattr(mail.time, "time", frozen.time)
    monkeypatch.setattr(mail.time, "sleep", frozen.sleep)
    return frozen


class TestSendSlots:
    def test_off_it_neither_waits_nor_touches_the_cache(self, settings, monkeypatch):
        settings.MAIL_PROVIDER_RATE = 0
        monkeypatch.setattr(mail.cache, "add", lambda *a, **k: pytest.fail("cache touched"))
        mail.send_slot_wait()

    def test_sends_wait_for_slots_a_quarter_second_apart_at_four_a_second(self, clock):
        for _ in range(9):
            clock.now = 1_000_000.1  # every send asked for at once, as two workers might
            mail.send_slot_wait()
        starts = clock.slept_until
        assert starts == pytest.approx([1_000_000 + 0.25 * k for k in range(1, 10)])
        # The provider's count: never more than 4 in any second, at and past its edges.
        for start in starts:
            assert sum(start - 1 < other <= start for other in starts) <= 4

    def test_a_slot_just_begun_is_taken_without_waiting(self, clock):
        clock.now = 1_000_000.5  # exactly a slot's start
        mail.send_slot_wait()
        assert clock.slept_until == [1_000_000.5]  # slept 0 s
        mail.send_slot_wait()
        assert clock.slept_until[-1] == pytest.approx(1_000_000.75)

    def test_no_slot_within_the_horizon_is_retried_not_sent(self, clock):
        horizon = int(mail.SLOT_HORIZON_SECONDS * 4)
        for _ in range(horizon):
            clock.now = 1_000_000.1
            mail.send_slot_wait()
        clock.now = 1_000_000.1
        with pytest.raises(mail.MailDeferred, match="no send slot"):
            mail.send_slot_wait()
        clock.now = 1_000_001.1  # a second later four slots are free again
        mail.send_slot_wait()

    def test_a_cache_that_cannot_be_reached_defers_the_mail(self, clock, monkeypatch):
        register()
        [mail_id] = pending()
        monkeypatch.setattr(mail.cache, "add", lambda *a, **k: None)  # django-redis, Redis down
        with pytest.raises(mail.MailDeferred, match="unreachable"):
            mail.mail_deliver(mail_id=mail_id)
        assert outbox.outbox == []
        assert pending() == [mail_id]

    def test_threads_never_share_a_slot(self, clock, monkeypatch):
        # Each thread has a cache object of its own (Django's are per thread), all
        # on one locmem store: record on the class what each one's add won.
        claimed, add = [], LocMemCache.add

        def recording_add(self, key, *args, **kwargs):
            won = add(self, key, *args, **kwargs)
            if won:
                claimed.append(key)
            return won

        monkeypatch.setattr(LocMemCache, "add", recording_add)
        barrier = threading.Barrier(8)

        def send() -> None:
            barrier.wait()
            mail.send_slot_wait()

        threads = [threading.Thread(target=send) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(claimed) == 8
        assert len(set(claimed)) == 8

    def test_a_mail_is_sent_in_its_slot(self, clock):
        register()
        [mail_id] = pending()
        assert mail.mail_deliver(mail_id=mail_id) is True
        assert clock.slept_until == [pytest.approx(1_000_000.25)]
        assert len(outbox.outbox) == 1
