from collections import Counter
from datetime import UTC, date, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import override_settings

from lab import seeding
from posts import services
from posts.models import Post, local_date
from posts.tests.mothers import a_member

TRICKY = [
    "a\ttab",
    "two\nlines",
    "back\\slash and \\N and \\t as text",
    "carriage\r\nreturn",
    "nul\0byte",
    "trailing backslash\\",
    "닉네임 😀 utf8mb4",
]


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("plain", "plain"),
        ("a\tb", "a\\tb"),
        ("a\nb", "a\\nb"),
        ("a\\b", "a\\\\b"),
        ("a\rb\0", "a\\rb\\0"),
        ("\\t is not a tab", "\\\\t is not a tab"),
    ],
)
def test_load_data_escape(value, escaped):
    assert seeding.load_data_escape(value) == escaped


def test_escaped_fields_never_hold_a_separator():
    for value in TRICKY:
        assert not {"\t", "\n", "\r", "\0"} & set(seeding.load_data_escape(value))


def test_chunks_are_in_time_order_and_counted_per_day():
    chunks = list(
        seeding.post_chunks(
            member_id=7,
            count=1000,
            start=date(2025, 1, 1),
            end=date(2025, 1, 10),
            seed=3,
            chunk_size=300,
        )
    )
    rows = [row for chunk in chunks for row in chunk.rows]
    assert [len(chunk.rows) for chunk in chunks] == [300, 300, 300, 100]
    assert [row[2] for row in rows] == sorted(row[2] for row in rows)
    assert sum(n for chunk in chunks for n in chunk.per_day.values()) == 1000
    assert {row[3] for row in rows} <= {f"2025-01-{d:02d}" for d in range(1, 11)}


def test_the_same_seed_gives_the_same_rows():
    def rows(seed):
        chunks = seeding.post_chunks(
            member_id=1,
            count=200,
            start=date(2024, 1, 1),
            end=date(2024, 12, 31),
            seed=seed,
            chunk_size=64,
        )
        return [row for chunk in chunks for row in chunk.rows]

    assert rows(5) == rows(5)
    assert rows(5) != rows(6)


@pytest.mark.mysql
@pytest.mark.django_db
class TestLoadData:
    def test_contents_round_trip_through_the_loader(self, tmp_path):
        member = a_member()
        rows = [
            (member.pk, text, f"2025-01-01 0{i}:00:00", "2025-01-01")
            for i, text in enumerate(TRICKY)
        ]
        path = tmp_path / "posts.tsv"
        seeding.write_load_file(path, rows)

        with transaction.atomic():
            seeding.load_file(path, rows=len(rows))

        stored = list(Post.objects.filter(member=member).order_by("id").values_list("contents"))
        assert [text for (text,) in stored] == TRICKY

    def test_a_short_load_raises_and_rolls_back(self, tmp_path):
        member = a_member()
        path = tmp_path / "posts.tsv"
        seeding.write_load_file(path, [(member.pk, "one", "2025-01-01 00:00:00", "2025-01-01")])

        with pytest.raises(RuntimeError, match="loaded 1 of 2 rows"), transaction.atomic():
            seeding.load_file(path, rows=2)

        assert not Post.objects.filter(member=member).exists()

    def test_a_bad_value_raises_instead_of_a_warning(self, tmp_path):
        member = a_member()
        path = tmp_path / "posts.tsv"
        seeding.write_load_file(path, [(member.pk, "x" * 501, "2025-01-01 00:00:00", "2025-01-01")])

        with pytest.raises(RuntimeError, match="warnings"), transaction.atomic():
            seeding.load_file(path, rows=1)

        assert not Post.objects.filter(member=member).exists()

    def test_seeding_uses_the_loader_and_keeps_counts_right(self):
        member = a_member()
        seeding.posts_seed(
            member_id=member.pk,
            count=500,
            start=date(2025, 1, 1),
            end=date(2025, 1, 31),
            chunk_size=70,
        )
        assert Post.objects.filter(member=member).count() == 500
        assert services.daily_counts_differences(member_id=member.pk) == []

    def test_the_server_allows_it(self):
        seeding.check_load_data()  # the server's local_infile is ON, the connection asks

    def test_a_connection_without_local_infile_is_told_what_to_set(self, monkeypatch):
        options = dict(connection.settings_dict["OPTIONS"])
        options.pop("local_infile")
        monkeypatch.setitem(connection.settings_dict, "OPTIONS", options)
        with pytest.raises(seeding.LoadDataUnavailable, match="'local_infile': 1"):
            seeding.check_load_data()

        member = a_member()
        with pytest.raises(CommandError, match="does not allow LOAD DATA LOCAL INFILE"):
            call_command("seed_posts", "--member", str(member.pk), "--count", "5")
        assert not Post.objects.exists()


# --- dates and times: before 1970, Seoul's historical offsets, its summer times ----------

SEOUL_RANGES = [
    (date(1969, 12, 25), date(1970, 1, 5)),  # across the epoch: negative timestamps
    (date(1969, 12, 31), date(1969, 12, 31)),  # one day before it
    (date(1908, 3, 25), date(1908, 4, 5)),  # local mean time (+08:27:52) to +08:30
    (date(1911, 12, 25), date(1912, 1, 5)),  # +08:30 to +09:00
    (date(1948, 5, 28), date(1948, 6, 3)),  # summer time: midnight skipped (00:00 is 01:00)
    (date(1948, 9, 10), date(1948, 9, 15)),  # summer time ends: 23:00-24:00 twice
    (date(1954, 3, 18), date(1954, 3, 23)),  # back to +08:30 at midnight
    (date(1961, 8, 8), date(1961, 8, 12)),  # +08:30 to +09:00 for good
    (date(1987, 5, 8), date(1987, 5, 12)),  # the Olympic summer time
    (date(1987, 10, 9), date(1987, 10, 13)),
]


def seeded_rows(start: date, end: date, count: int, seed: int = 1):
    chunks = seeding.post_chunks(
        member_id=1, count=count, start=start, end=end, seed=seed, chunk_size=997
    )
    return [row for chunk in chunks for row in chunk.rows], list(chunks)


def assert_rows_match_zoneinfo(rows, start: date, end: date) -> None:
    """Each row's created_at is a full UTC datetime whose local date is its created_date."""
    tz = ZoneInfo(settings.TIME_ZONE)
    previous = None
    for _member, _contents, created_at, created_date in rows:
        moment = datetime.strptime(created_at, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        local = moment.astimezone(tz).date()
        assert local.isoformat() == created_date, (created_at, created_date)
        assert start <= local <= end, created_at
        assert previous is None or created_at >= previous
        previous = created_at


@pytest.mark.parametrize(("start", "end"), SEOUL_RANGES)
def test_every_row_of_a_historical_range_matches_zoneinfo(start, end):
    # Dense enough that every hour of the range holds posts (the edges of each change).
    rows, _ = seeded_rows(start, end, count=200 * ((end - start).days + 1))
    assert_rows_match_zoneinfo(rows, start, end)
    first = datetime.strptime(rows[0][2], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    assert first.astimezone(ZoneInfo(settings.TIME_ZONE)).date() == start


def test_the_notes_range_from_1900_matches_zoneinfo_on_a_sample():
    rows, _ = seeded_rows(date(1900, 1, 1), date(2025, 3, 1), count=20_000)
    assert_rows_match_zoneinfo(rows, date(1900, 1, 1), date(2025, 3, 1))
    assert rows[0][2].startswith("1900-") or rows[0][2].startswith("1899-12-31")
    assert rows[-1][3].startswith("2025-")


@pytest.mark.parametrize(
    ("zone", "start", "end"),
    [
        ("America/Sao_Paulo", date(2019, 2, 15), date(2019, 2, 18)),  # 24:00 back to 23:00
        ("America/Sao_Paulo", date(2018, 11, 3), date(2018, 11, 5)),  # midnight skipped
        ("Pacific/Apia", date(2011, 12, 28), date(2012, 1, 2)),  # 30 December never was
        ("UTC", date(1969, 12, 30), date(1970, 1, 2)),
    ],
)
def test_other_zones_match_zoneinfo(zone, start, end):
    with override_settings(TIME_ZONE=zone):
        rows, _ = seeded_rows(start, end, count=5_000)
        assert_rows_match_zoneinfo(rows, start, end)


def test_the_daily_counts_are_the_rows_per_local_date():
    rows, _ = seeded_rows(date(1948, 5, 28), date(1948, 9, 15), count=3_000)
    chunks = seeding.post_chunks(
        member_id=1,
        count=3_000,
        start=date(1948, 5, 28),
        end=date(1948, 9, 15),
        seed=1,
        chunk_size=997,
    )
    counted = Counter()
    for chunk in chunks:
        counted.update(chunk.per_day)
    assert counted == Counter(date.fromisoformat(row[3]) for row in rows)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "end"),
    [(date(1969, 12, 31), date(1969, 12, 31)), (date(1900, 1, 1), date(2025, 3, 1))],
)
def test_stored_posts_read_back_as_their_moment_and_local_date(start, end):
    member = a_member()
    call_command(
        "seed_posts",
        "--member",
        str(member.pk),
        "--count",
        "3000",
        "--start",
        start.isoformat(),
        "--end",
        end.isoformat(),
        stdout=StringIO(),
    )
    stored = list(Post.objects.filter(member=member).order_by("id"))
    assert len(stored) == 3000
    for post in stored[::7]:
        assert post.created_at.tzinfo is not None
        assert start <= post.created_date <= end
        assert local_date(post.created_at) == post.created_date, post.created_at
    assert stored[0].created_at <= stored[-1].created_at
    assert services.daily_counts_differences(member_id=member.pk) == []


@pytest.mark.django_db
@pytest.mark.parametrize(("day", "ok"), [("1899-12-31", False), ("1900-01-01", True)])
def test_the_earliest_start_is_1900(day, ok):
    member = a_member()
    args = ["seed_posts", "--member", str(member.pk), "--count", "3", "--start", day]
    args += ["--end", "1900-01-02"]
    if ok:
        call_command(*args, stdout=StringIO())
        assert Post.objects.filter(member=member).count() == 3
    else:
        with pytest.raises(CommandError, match="1900-01-01"):
            call_command(*args, stdout=StringIO())
        assert not Post.objects.exists()
