"""Fixtures the feed tests share."""

import pytest


@pytest.fixture
def held_jobs(monkeypatch) -> list[int]:
    """Jobs are recorded, not sent after their commit: the test runs each where it wants."""
    sent: list[int] = []
    monkeypatch.setattr("core.outbox.outbox_send", lambda model, pk: sent.append(pk) or True)
    return sent
