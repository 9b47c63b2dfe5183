from datetime import date

import pytest

from posts import facades


@pytest.fixture
def on_day(monkeypatch):
    """``on_day(date)``: the calendar's "today" is that day (its grids, links and notes)."""

    def set_today(day: date) -> None:
        monkeypatch.setattr(facades, "today", lambda: day)

    return set_today
