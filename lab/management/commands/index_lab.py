"""The study notes' index experiment and its pitfalls, reproduced on the current database."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from lab import charts, index_lab, output, pitfalls
from lab.management.commands.seed_posts import iso_date
from members import services as members
from posts.facades import today

SQLITE_NOTE = (
    "On SQLite the ranking differs from MySQL/MariaDB's, and not by accident: SQLite has "
    "no buffer pool and no clustered secondary lookups through a primary key index (a "
    "row is found by its rowid, one B-tree search), no temporary table for the GROUP BY "
    "of an unsorted read, and the whole file sits in the operating system's cache; so "
    "the single-column indexes cost less there and the full scan more. The composite "
    "index and DailyPostCount still win, for the same reason: one covering range read."
)


class Command(BaseCommand):
    help = (
        "Run the notes' calendar query (GROUP BY created_date for one member, "
        "--start..--end) through each access path - no index, member_id, created_date, "
        "(member_id, created_date) and the DailyPostCount table - and print each plan and "
        "median time. With --pitfalls, the notes' index pitfalls instead: a function on "
        "the column, a type mismatch, a composite index without its leading column, one "
        "index per query (OR: no merge, index merge, UNION), each before and after the fix. "
        "The notes' data shape (2.7M posts of one member beside another's, 1900..2025) is "
        "built by: manage.py seed_posts --member ID --count 2700000 --start 1900-01-01 "
        "--end 2025-03-01."
    )

    def add_arguments(self, parser):
        parser.add_argument("--member", type=int, required=True, help="the member id")
        parser.add_argument(
            "--start", type=str, default="1900-01-01", help="YYYY-MM-DD (default 1900-01-01)"
        )
        parser.add_argument("--end", type=str, help="YYYY-MM-DD (default: today)")
        parser.add_argument(
            "--repeat", type=int, default=5, help="runs per path (median; default 5)"
        )
        parser.add_argument(
            "--keep-indexes",
            action="store_true",
            help=f"keep {index_lab.LAB_INDEX} if this run created it",
        )
        parser.add_argument(
            "--pitfalls", action="store_true", help="the index pitfalls instead of the paths"
        )
        output.add_arguments(parser)

    def handle(self, *args, member, start, end, repeat, keep_indexes, **options):
        start = iso_date(start)
        end = iso_date(end) if end else today()
        if start > end:
            raise CommandError(f"--start {start} is after --end {end}.")
        if repeat < 1:
            raise CommandError("--repeat must be at least 1.")
        if members.member_public(member_id=member) is None:
            raise CommandError(f"No member with id {member}.")
        if options["pitfalls"]:
            self._pitfalls(member, repeat, options)
            return

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
        params = {"member": member, "start": start, "end": end, "repeat": repeat}
        if options["json"]:
            output.write_json(
                options["json"],
                lab="index_lab",
                params=params,
                rows=[
                    {
                        "path": r.path.name,
                        "access": r.plan.access,
                        "key": r.plan.key,
                        "est_rows": r.plan.rows,
                        "extra": r.plan.extra,
                        "median_ms": r.median_ms,
                        "posts": sum(r.counts.values()),
                        "days": len(r.counts),
                    }
                    for r in results
                ],
            )
        if options["chart"]:
            charts.bars(
                options["chart"],
                title=f"The calendar query, {start}..{end}, by access path ({output.database()})",
                labels=[r.path.name for r in results],
                series={"median ms": [r.median_ms for r in results]},
                unit="median ms",
                log=True,
            )
        self._check(results)

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
        self.stdout.write(
            f"\nCalendar query for member {member}, {start}..{end}, median of {repeat} run(s):"
        )
        output.table(self.stdout.write, header, rows)
        if connection.vendor == "sqlite":
            self.stdout.write(SQLITE_NOTE)

    def _check(self, results) -> None:
        expected = results[0].counts
        days, posts = len(expected), sum(expected.values())
        if any(r.counts != expected for r in results):
            raise CommandError(
                "The paths disagree: "
                + ", ".join(f"{r.path.name}={sum(r.counts.values())}" for r in results)
            )
        self.stdout.write(self.style.SUCCESS(f"All paths agree: {posts:,} posts on {days:,} days."))

    def _pitfalls(self, member: int, repeat: int, options) -> None:
        try:
            results, notes, data = pitfalls.measure(
                member_id=member, repeat=repeat, on_step=self.stderr.write
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        titles = {p.key: p for p in pitfalls.pitfalls(data)}
        self.stdout.write(
            f"\nThe index pitfalls on {output.database()}: the day {data.day}, member "
            f"{data.member_id} (the fewest posts) for the OR; median of {repeat} run(s)."
        )
        for note in notes:
            self.stdout.write(f"({note}; dropped again afterwards)")
        worst = {}
        for r in results:
            worst[r.pitfall] = max(worst.get(r.pitfall, 0), r.median_ms)
        rows = [
            (
                titles[r.pitfall].title if n == 0 or results[n - 1].pitfall != r.pitfall else "",
                r.variant,
                "after" if r.fixed else "before",
                f"{r.median_ms:.2f}",
                f"{worst[r.pitfall] / r.median_ms:.1f}" if r.median_ms else "-",
                f"{r.count:,}",
                pitfalls.plan_summary(r.plan),
            )
            for n, r in enumerate(results)
        ]
        output.table(
            self.stdout.write,
            ("pitfall", "query", "fix", "median ms", "x faster", "posts", "plan"),
            rows,
        )
        if connection.vendor == "sqlite":
            for pitfall in titles.values():
                if pitfall.sqlite_note:
                    self.stdout.write(f"SQLite, {pitfall.title}: {pitfall.sqlite_note}")
        if options["json"]:
            output.write_json(
                options["json"],
                lab="index_lab --pitfalls",
                params={
                    "member": member,
                    "repeat": repeat,
                    "day": data.day,
                    "or_member": data.member_id,
                },
                rows=[
                    {
                        "pitfall": r.pitfall,
                        "title": titles[r.pitfall].title,
                        "variant": r.variant,
                        "fixed": r.fixed,
                        "median_ms": r.median_ms,
                        "posts": r.count,
                        "plan": pitfalls.plan_summary(r.plan),
                        "sql": r.sql,
                    }
                    for r in results
                ],
            )
        if options["chart"]:
            charts.bars(
                options["chart"],
                title=f"Index pitfalls, before and after the fix ({output.database()})",
                labels=[f"{titles[r.pitfall].title}:\n{r.variant}" for r in results],
                series={"median ms": [r.median_ms for r in results]},
                unit="median ms",
                log=True,
                colors=[charts.AFTER if r.fixed else charts.BEFORE for r in results],
                legend={"the pitfall": charts.BEFORE, "the fix": charts.AFTER},
            )
        wrong = pitfalls.disagreements(results)
        if wrong:
            raise CommandError(f"The variants disagree: {', '.join(wrong)}.")
        self.stdout.write(
            self.style.SUCCESS("Every variant of each pitfall counts the same posts.")
        )
