"""The study notes' index experiment, reproduced on the current database."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from lab import index_lab
from lab.management.commands.seed_posts import iso_date
from members import services as members
from posts.facades import today


class Command(BaseCommand):
    help = (
        "Run the calendar query (GROUP BY created_date for one member) through each access "
        "path - no index, member_id, created_date, (member_id, created_date) and the "
        "DailyPostCount table - and print each plan and median time as one table."
    )

    def add_arguments(self, parser):
        parser.add_argument("--member", type=int, required=True, help="the member id")
        parser.add_argument("--start", type=str, default="1900-01-01", help="YYYY-MM-DD")
        parser.add_argument("--end", type=str, help="YYYY-MM-DD (default: today)")
        parser.add_argument("--repeat", type=int, default=5, help="runs per path (median)")
        parser.add_argument(
            "--keep-indexes",
            action="store_true",
            help=f"keep {index_lab.LAB_INDEX} if this run created it",
        )

    def handle(self, *args, member, start, end, repeat, keep_indexes, **options):
        start = iso_date(start)
        end = iso_date(end) if end else today()
        if start > end:
            raise CommandError(f"--start {start} is after --end {end}.")
        if repeat < 1:
            raise CommandError("--repeat must be at least 1.")
        if members.member_public(member_id=member) is None:
            raise CommandError(f"No member with id {member}.")

        created = index_lab.create_lab_index()
        if created is not None:
            self.stdout.write(
                f"Created the missing index {index_lab.LAB_INDEX} (created_date) "
                f"in {created:.2f} s."
            )
        try:
            results = index_lab.measure(
                member_id=member,
                start=start,
                end=end,
                repeat=repeat,
                on_path=lambda path: self.stderr.write(f"measuring {path.name} ..."),
            )
        finally:
            if created is not None and not keep_indexes:
                index_lab.drop_lab_index()
                self.stdout.write(f"Dropped {index_lab.LAB_INDEX} again (--keep-indexes keeps it).")
        self._print(results, member, start, end, repeat)

    def _print(self, results, member: int, start: date, end: date, repeat: int) -> None:
        fastest = min(r.median_ms for r in results)
        header = ("path", "access", "key", "est. rows", "median ms", "x fastest", "extra")
        rows = [
            (
                r.path.name,
                r.plan.access,
                r.plan.key,
                r.plan.rows,
                f"{r.median_ms:.1f}",
                f"{r.median_ms / fastest:.1f}" if fastest else "-",
                r.plan.extra,
            )
            for r in results
        ]
        widths = [max(len(str(line[i])) for line in [header, *rows]) for i in range(len(header))]
        self.stdout.write(
            f"\nCalendar query for member {member}, {start}..{end}, median of {repeat} run(s):"
        )
        for line in [header, *rows]:
            self.stdout.write("  ".join(str(v).ljust(w) for v, w in zip(line, widths, strict=True)))
        expected = results[0].counts
        days, posts = len(expected), sum(expected.values())
        if any(r.counts != expected for r in results):
            raise CommandError(
                "The paths disagree: "
                + ", ".join(f"{r.path.name}={sum(r.counts.values())}" for r in results)
            )
        self.stdout.write(self.style.SUCCESS(f"All paths agree: {posts:,} posts on {days:,} days."))
