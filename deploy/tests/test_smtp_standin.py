"""The SMTP stand-in over a real socket: it accepts, refuses over its rate, and
accepts a Message-ID once, as a provider with a quota and an idempotency key."""

import smtplib
import socket
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from core.testing.net import free_port
from deploy.smtp_standin import RATE_LIMITED, read_mailbox, read_stats

STANDIN = Path(__file__).resolve().parents[1] / "smtp_standin.py"


class Standin:
    def __init__(self, mailbox: Path, max_per_second: int):
        self.mailbox, self.max_per_second = mailbox, max_per_second
        self.port = free_port()
        self.log = mailbox.with_name("standin.log")
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    str(STANDIN),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--max-per-second",
                    str(self.max_per_second),
                    "--mailbox",
                    str(self.mailbox),
                ],
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert self.process.poll() is None, self.log.read_text()
                time.sleep(0.05)
        pytest.fail("the stand-in did not start listening")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)

    def send(self, message_id: str, subject: str = "hello", to: str = "kim@example.com"):
        message = EmailMessage()
        message["From"] = "SNS <no-reply@sns.example>"
        message["To"] = to
        message["Subject"] = subject
        message["Message-ID"] = message_id
        message.set_content("Hello.")
        with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as smtp:
            smtp.send_message(message)


@pytest.fixture
def standin(tmp_path):
    running = []

    def start(max_per_second: int = 100) -> Standin:
        (tmp_path / "mail").mkdir(exist_ok=True)
        s = Standin(tmp_path / "mail" / "mailbox.jsonl", max_per_second)
        s.start()
        running.append(s)
        return s

    yield start
    for s in running:
        if s.process.poll() is None:
            s.stop()


def test_it_stores_each_accepted_message_as_a_json_line(standin):
    provider = standin()
    provider.send("<a@sns.example>", subject="SNS에 오신 것을 환영합니다")
    provider.send("<b@sns.example>", to="lee@example.com")

    mailbox = read_mailbox(provider.mailbox)
    assert [(m["message_id"], m["to"], m["subject"]) for m in mailbox] == [
        ("<a@sns.example>", ["kim@example.com"], "SNS에 오신 것을 환영합니다"),
        ("<b@sns.example>", ["lee@example.com"], "hello"),
    ]
    assert all(m["accepted_at"] for m in mailbox)
    assert read_stats(provider.mailbox) == {"accepted": 2, "refused": 0, "duplicates": 0}


def test_over_its_rate_it_refuses_with_a_temporary_451(standin):
    provider = standin(max_per_second=3)
    refusals = []
    for n in range(5):
        try:
            provider.send(f"<{n}@sns.example>")
        except smtplib.SMTPDataError as exc:
            refusals.append((n, exc.smtp_code, exc.smtp_error.decode()))

    assert refusals == [
        (3, 451, "4.7.1 Rate limit exceeded"),
        (4, 451, "4.7.1 Rate limit exceeded"),
    ]
    assert RATE_LIMITED == "451 4.7.1 Rate limit exceeded"
    assert read_stats(provider.mailbox) == {"accepted": 3, "refused": 2, "duplicates": 0}

    time.sleep(1.1)  # the window slides on: a refused message sent again is accepted
    provider.send("<3@sns.example>")
    assert [m["message_id"] for m in read_mailbox(provider.mailbox)][-1] == "<3@sns.example>"


def test_a_message_id_it_has_accepted_is_answered_250_and_stored_once(standin):
    provider = standin()
    provider.send("<welcome-1@sns.example>")
    provider.send("<welcome-1@sns.example>")  # no error: the sender sees success
    assert read_stats(provider.mailbox) == {"accepted": 1, "refused": 0, "duplicates": 1}

    provider.stop()  # it remembers across a restart, from its mailbox
    again = standin()
    again.send("<welcome-1@sns.example>")
    again.send("<welcome-2@sns.example>")

    assert [m["message_id"] for m in read_mailbox(again.mailbox)] == [
        "<welcome-1@sns.example>",
        "<welcome-2@sns.example>",
    ]
    assert read_stats(again.mailbox) == {"accepted": 2, "refused": 0, "duplicates": 2}


def test_before_the_first_message_there_is_nothing_to_read(tmp_path):
    assert read_mailbox(tmp_path / "none.jsonl") == []
    assert read_stats(tmp_path / "none.jsonl") == {"accepted": 0, "refused": 0, "duplicates": 0}
