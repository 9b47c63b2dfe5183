"""The paging lesson: OFFSET, OFFSET through a covering index, keyset; and the page count."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from lab import charts, output, paging_lab
from members import services as members

SQLITE_NOTE = (
    "On SQLite OFFSET costs less per skipped row than on MySQL/MariaDB (no row is "
    "built for a skipped index entry: it steps the index and skips), so the deferred "
    "join gains little there; OFFSET still grows with the depth and keyset does not."
)


def depth_list(value: str) -> list[int]:
    try:
        found = sorted({int(part) for part in value.split(",")})
    except ValueError:
        raise CommandError(f"{value!r} is not a comma-separated list of numbers.") from None
    if not found or found[0] < 1:
        raise CommandError(f"{value!r}: every depth must be at least 1.")
    return found


class Command(BaseCommand):
    help = (
        "Page one member's timeline (20 posts, newest first) at each --depths by OFFSET, "
        "by OFFSET through the covering index (a deferred join) and by keyset, with each "
        "plan and median time and a check that all three find the same posts; then the "
        "member's post count by COUNT(*), by the count table and by the optimizer's "
        "estimate, with their cost and error. Give it a member with many posts (the notes' "
        "scale: seed_posts --member ID --count 2700000)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--member", type=int, required=True, help="the member id")
        parser.add_argument(
            "--depths",
            default=",".join(str(d) for d in paging_lab.DEPTHS),
            help="comma-separated rows skipped (default 1000,10000,100000,1000000)",
        )
        parser.add_argument("--repeat", type=int, default=5, help="runs per query (median)")
        output.add_arguments(parser)

    def handle(self, *args, member, depths: str, repeat, **options):
        wanted = depth_list(depths)
        if repeat < 1:
            raise CommandError("--repeat must be at least 1.")
        if members.member_public(member_id=member) is None:
            raise CommandError(f"No member with id {member}.")
        pages = paging_lab.measure_pages(
            member_id=member, depths=wanted, repeat=repeat, on_step=self.stderr.write
        )
        counts = paging_lab.measure_counts(member_id=member, repeat=repeat)
        exact = counts[0].exact
        skipped = [d for d in wanted if d not in {p.depth for p in pages}]
        self.stdout.write(
            f"\nOne member's timeline ({exact:,} posts), {paging_lab.PAGE_SIZE} a page, on "
            f"{output.database()}; median of {repeat} run(s):"
        )
        keyset = {p.depth: p.median_ms for p in pages if p.method == "keyset"}
        output.table(
            self.stdout.write,
            ("depth", "method", "median ms", "x keyset", "same posts", "plan"),
            [
                (
                    f"{p.depth:,}",
                    p.method,
                    f"{p.median_ms:.2f}",
                    f"{p.median_ms / keyset[p.depth]:.1f}" if keyset[p.depth] else "-",
                    "yes" if p.same else "NO",
                    p.plan,
                )
                for p in pages
            ],
        )
        if skipped:
            self.stdout.write(
                f"(depths {', '.join(f'{d:,}' for d in skipped)} skipped: the member has "
                f"only {exact:,} posts)"
            )
        self.stdout.write("\nThe count page numbers need:")
        output.table(
            self.stdout.write,
            ("method", "posts", "median ms", "error", "note"),
            [
                (
                    c.method,
                    "-" if c.value is None else f"{c.value:,}",
                    "-" if c.median_ms is None else f"{c.median_ms:.2f}",
                    "-" if c.error is None else f"{c.error:+.1%}",
                    c.note,
                )
                for c in counts
            ],
        )
        if connection.vendor == "sqlite":
            self.stdout.write(SQLITE_NOTE)
        if options["json"]:
            output.write_json(
                options["json"],
                lab="paging_lab",
                params={"member": member, "depths": wanted, "repeat": repeat},
                rows=[
                    {
                        "depth": p.depth,
                        "method": p.method,
                        "median_ms": p.median_ms,
                        "same": p.same,
                        "plan": p.plan,
                    }
                    for p in pages
                ],
                counts=[
                    {
                        "method": c.method,
                        "value": c.value,
                        "exact": c.exact,
                        "median_ms": c.median_ms,
                        "error": c.error,
                        "note": c.note,
                    }
                    for c in counts
                ],
            )
        if options["chart"]:
            charts.lines(
                options["chart"],
                title=f"One page of 20 posts by depth ({exact:,} posts, {output.database()})",
                series={
                    method: [(p.depth, p.median_ms) for p in pages if p.method == method]
                    for method in paging_lab.METHODS
                },
                xlabel="depth (rows skipped)",
                ylabel="median ms",
                logx=True,
                logy=True,
            )
        wrong = [f"{p.method} at {p.depth:,}" for p in pages if not p.same]
        if wrong:
            raise CommandError(f"The methods disagree: {', '.join(wrong)}.")
        self.stdout.write(self.style.SUCCESS("Every method found the same posts at every depth."))
