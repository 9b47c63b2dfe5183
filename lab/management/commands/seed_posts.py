"""Bulk-load one member's posts, in chronological order, with the daily counts.

On MySQL/MariaDB the rows go in with LOAD DATA LOCAL INFILE, which both the
connection and the server must allow.
"""

import time
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from tqdm import tqdm

from lab import seeding
from members import services as members
from posts.facades import today

# The study notes' range starts here, as birthdates do; MySQL's DATETIME starts at year 1000.
EARLIEST_DAY = date(1900, 1, 1)


def iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date in the form YYYY-MM-DD.") from None


class Command(BaseCommand):
    help = (
        "Load N posts for one member, spread at random over --start..--end (local days, "
        "both included), oldest first so ids follow time; DailyPostCount is kept right. "
        "On MySQL/MariaDB it loads with LOAD DATA LOCAL INFILE."
    )

    def add_arguments(self, parser):
        parser.add_argument("--member", type=int, required=True, help="the author's member id")
        parser.add_argument("--count", type=int, required=True, help="how many posts")
        parser.add_argument("--start", type=str, help="first day, YYYY-MM-DD (default: a year ago)")
        parser.add_argument("--end", type=str, help="last day, YYYY-MM-DD (default: today)")
        parser.add_argument("--seed", type=int, default=1, help="same seed, same posts")

    def handle(self, *args, member, count, start, end, seed, **options):
        end = iso_date(end) if end else today()
        start = iso_date(start) if start else end - timedelta(days=365)
        if count <= 0:
            raise CommandError("--count must be a positive number.")
        if start > end:
            raise CommandError(f"--start {start} is after --end {end}.")
        if start < EARLIEST_DAY:
            raise CommandError(f"--start {start} is before {EARLIEST_DAY}, the earliest day.")
        if members.member_public(member_id=member) is None:
            raise CommandError(f"No member with id {member}.")
        if connection.vendor == "mysql":
            try:
                seeding.check_load_data()
            except seeding.LoadDataUnavailable as exc:
                raise CommandError(str(exc)) from None

        began = time.perf_counter()
        with tqdm(total=count, unit="posts", unit_scale=True, disable=None) as bar:
            written = seeding.posts_seed(
                member_id=member, count=count, start=start, end=end, seed=seed, on_chunk=bar.update
            )
        seconds = time.perf_counter() - began
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {written:,} posts for member {member} ({start}..{end}) in "
                f"{seconds:.1f} s: {written / seconds:,.0f} rows/s."
            )
        )
