from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from lab import seeding
from posts import services
from posts.models import Post
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
