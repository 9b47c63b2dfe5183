"""The feed lesson: pull vs push vs hybrid, read cost by followings, write cost by followers."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from lab import charts, feed_lab, output, seeding

SQLITE_NOTE = (
    "On SQLite the pull query does not give up on the index at 1,000 followings (it has no "
    "cost model that prefers a scan), and the fan-out writes in one process with nothing "
    "else writing: the shape is the same, the gaps narrower."
)


def sizes(value: str) -> list[int]:
    try:
        found = sorted({int(part) for part in value.split(",")})
    except ValueError:
        raise CommandError(f"{value!r} is not a comma-separated list of numbers.") from None
    if not found or found[0] < 1:
        raise CommandError(f"{value!r}: every size must be at least 1.")
    return found


class Command(BaseCommand):
    help = (
        "Read one home page (20 posts) by pull (the naive posts query), push (the feed rows) "
        "and hybrid (push with the authors over FEED_FANOUT_LIMIT merged at read time) at "
        "each number of followings, with plans and a check that all find the same posts; "
        "then publish a post by an author with each number of followers: the write, the "
        "fan-out's time and rows/s, and a check that every follower's feed holds it once. "
        "Makes its own members and removes them afterwards (unless --keep)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--followings", default="10,100,1000", help="comma-separated (default 10,100,1000)"
        )
        parser.add_argument(
            "--followers",
            default="1000,10000,100000",
            help="comma-separated (default 1000,10000,100000), capped by --max-followers",
        )
        parser.add_argument(
            "--max-followers",
            type=int,
            help="largest audience to build (default 100000 on MySQL/MariaDB, 10000 on SQLite)",
        )
        parser.add_argument(
            "--crowd-posts",
            type=int,
            help="posts by a member nobody follows, between the authors' rounds "
            "(default 100000 on MySQL/MariaDB, 10000 on SQLite)",
        )
        parser.add_argument("--repeat", type=int, default=20, help="runs per read/write (median)")
        parser.add_argument("--keep", action="store_true", help="keep the lab's members")
        output.add_arguments(parser)

    def handle(
        self, *args, followings, followers, max_followers, crowd_posts, repeat, keep, **options
    ):
        followings, followers = sizes(followings), sizes(followers)
        cap = feed_lab.default_max_followers() if max_followers is None else max_followers
        followers = [n for n in followers if n <= cap]
        if repeat < 1:
            raise CommandError("--repeat must be at least 1.")
        if crowd_posts is None:
            crowd_posts = feed_lab.default_crowd_posts()
        elif crowd_posts < 0:
            raise CommandError("--crowd-posts must be 0 or more.")
        if connection.vendor == "mysql":
            try:
                seeding.check_load_data()
            except seeding.LoadDataUnavailable as exc:
                raise CommandError(str(exc)) from None
        if settings.DEBUG:
            self.stderr.write("DEBUG is on: every query is logged. Run with DEBUG=0 for figures.")
        made = feed_lab.Made()
        try:
            self.stderr.write(f"building readers following {followings} authors ...")
            readers = feed_lab.readers_build(
                followings=followings, made=made, crowd_posts=crowd_posts
            )
            reads = feed_lab.measure_reads(
                readers=readers, repeat=repeat, on_step=self.stderr.write
            )
            writes = feed_lab.measure_writes(
                followers=followers, repeat=repeat, made=made, on_step=self.stderr.write
            )
        finally:
            if not keep:
                self.stderr.write("removing the lab's members ...")
                feed_lab.clean_up(made)
        self._print_reads(reads, repeat, crowd_posts)
        self._print_writes(writes, repeat)
        if connection.vendor == "sqlite":
            self.stdout.write(SQLITE_NOTE)
        if options["json"]:
            output.write_json(
                options["json"],
                lab="feed_lab",
                params={
                    "followings": followings,
                    "followers": followers,
                    "repeat": repeat,
                    "crowd_posts": crowd_posts,
                },
                rows=[
                    {
                        "followings": r.followings,
                        "strategy": r.strategy,
                        "pulled": r.pulled,
                        "queries": r.queries,
                        "median_ms": r.median_ms,
                        "same": r.same,
                    }
                    for r in reads
                ],
                writes=[
                    {
                        "followers": w.followers,
                        "write_ms": w.write_ms,
                        "no_followers_ms": w.base_ms,
                        "fanout_s": w.fanout_s,
                        "rows_per_s": w.rows_per_s,
                        "reached": w.reached,
                    }
                    for w in writes
                ],
            )
        if options["chart"]:
            charts.lines(
                options["chart"],
                title=f"One home page by the number of followings ({output.database()})",
                series={
                    name: [(r.followings, r.median_ms) for r in reads if r.strategy == name]
                    for name, _ in feed_lab.STRATEGIES
                },
                xlabel="members followed",
                ylabel="median ms",
                logx=True,
            )
        wrong = [f"{r.strategy} at {r.followings}" for r in reads if not r.same]
        wrong += [f"fan-out to {w.followers}" for w in writes if w.reached is False]
        if wrong:
            raise CommandError(f"Wrong results: {', '.join(wrong)}.")

    def _table(self, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
        widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]
        for line in [header, *rows]:
            self.stdout.write("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)))

    def _print_reads(self, reads, repeat: int, crowd: int) -> None:
        push = {r.followings: r.median_ms for r in reads if r.strategy == "push: home page"}
        self.stdout.write(
            f"\nOne home page ({feed_lab.PAGE_SIZE} posts), each followed author with "
            f"{feed_lab.POSTS_PER_AUTHOR} posts among {crowd:,} by others; median of {repeat} "
            "run(s). The pull row is the bare queries; the home pages add posts, nicknames "
            "and like counts:"
        )
        self._table(
            (
                "followings",
                "strategy",
                "pulled",
                "queries",
                "median ms",
                "x push page",
                "same posts",
            ),
            [
                (
                    f"{r.followings:,}",
                    r.strategy,
                    f"{r.pulled:,}",
                    str(r.queries),
                    f"{r.median_ms:.2f}",
                    f"{r.median_ms / push[r.followings]:.2f}" if push[r.followings] else "-",
                    "yes" if r.same else "NO",
                )
                for r in reads
            ],
        )
        self.stdout.write("\nTheir reads of the posts and feed tables:")
        self._table(
            ("followings", "strategy", "table", "access", "key", "est. rows", "extra"),
            [
                (f"{r.followings:,}", r.strategy, p.table, p.plan.access, p.plan.key, p.plan.rows)
                + (p.plan.extra,)
                for r in reads
                for p in r.plans
            ],
        )

    def _print_writes(self, writes, repeat: int) -> None:
        self.stdout.write(
            f"\nOne post: the write (post_publish, median of {repeat}, in turns with a write "
            "by an author with no followers) and the fan-out (fanout_run, one run, as the "
            "worker does it). Each write is set beside a write by an author with no followers "
            "taken in the same round, shown in its own column: the ratio is to that, not to the "
            "row above, so it sees one load:"
        )
        rows = []
        for w in writes:
            if w.fanout_s is None:
                fanout = rows_s = reached = "-"
            else:
                fanout, rows_s = f"{w.fanout_s:.3f}", f"{w.rows_per_s:,.0f}"
                reached = "yes" if w.reached else "NO"
            by_default = "pulled (no fan-out)" if w.pulled_by_default else "pushed"
            if w.followers and w.pulled_by_default:
                by_default += f"; limit raised to {w.limit:,} here"
            rows.append(
                (
                    f"{w.followers:,}",
                    f"{w.write_ms:.2f}",
                    f"{w.base_ms:.2f}",
                    f"{w.ratio:.2f}",
                    fanout,
                    rows_s,
                    reached,
                    by_default if w.followers else "-",
                )
            )
        self._table(
            (
                "followers",
                "write ms",
                "no followers, same round ms",
                "x no followers",
                "fan-out s",
                "feed rows/s",
                "in every feed once",
                "by default",
            ),
            rows,
        )
