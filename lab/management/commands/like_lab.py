"""The like lesson: the same concurrent likes of one counter through each strategy."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from lab import charts, like_lab, output

SQLITE_NOTE = (
    "On SQLite one writer holds the whole database at a time (its write lock is the file's), "
    "so every strategy queues on that one lock and their differences shrink: nothing is "
    "locked per row, a read-modify-write cannot interleave (it loses nothing here, where "
    "MySQL/MariaDB lose most), the optimistic lock rarely finds the version moved, and "
    "processes cannot help. The lesson needs a server database with row locks; here it "
    "shows the cost of each strategy's statements."
)


def counts(value: str, flag: str) -> list[int]:
    try:
        found = sorted({int(part) for part in value.split(",")})
    except ValueError:
        raise CommandError(f"{flag}: {value!r} is not a comma-separated list of numbers.") from None
    if not found or found[0] < 1:
        raise CommandError(f"{flag}: every number must be at least 1.")
    return found


class Command(BaseCommand):
    help = (
        "Like one counter from --threads clients at once (each a thread with its own "
        "connection, spread over --processes processes), --likes-per-thread times each, "
        "through every strategy: read-modify-write, pessimistic lock, optimistic lock, like "
        "table + counter, like table + sharded counter, like table with the count flushed "
        "every 50 ms (the notes' gather-then-write), then the product's likes.services on a "
        "real post (throw-away members, removed afterwards). Prints throughput, p50/p99 "
        "latency per like, retries, deadlocks and lock wait timeouts, lost updates, and "
        "whether the count equals the like rows. The others use the lab's scratch tables."
    )

    def add_arguments(self, parser):
        parser.add_argument("--threads", type=int, default=32, help="concurrent likers (32)")
        parser.add_argument("--likes-per-thread", type=int, default=25, help="likes per liker (25)")
        parser.add_argument(
            "--processes",
            help="comma-separated: run every strategy with the likers in each number of "
            "processes (default 1,4 on MySQL/MariaDB, 1 on SQLite)",
        )
        parser.add_argument("--repeat", type=int, default=1, help="runs per strategy, added up")
        output.add_arguments(parser)

    def handle(self, *args, threads, likes_per_thread, processes, repeat, **options):
        if threads < 1 or likes_per_thread < 1 or repeat < 1:
            raise CommandError("--threads, --likes-per-thread and --repeat must be at least 1.")
        modes = (
            counts(processes, "--processes")
            if processes
            else sorted({1, like_lab.default_processes()})
        )
        modes = [min(p, threads) for p in modes]
        runs = {}
        for mode in modes:
            runs[mode] = like_lab.measure(
                threads=threads,
                likes_per_thread=likes_per_thread,
                repeat=repeat,
                processes=mode,
                on_strategy=lambda s, m=mode: self.stderr.write(
                    f"liking through {s.name}, {m} process(es) ..."
                ),
            )
        self.stdout.write(
            f"\n{like_lab.commit_durability()}; {threads} clients x {likes_per_thread} likes "
            f"of one counter, {repeat} run(s) per strategy:"
        )
        for mode, results in runs.items():
            self.stdout.write(f"\nThe {threads} clients in {mode} process(es):")
            self._print(results)
        if connection.vendor == "sqlite":
            self.stdout.write(SQLITE_NOTE)
        if options["json"]:
            output.write_json(
                options["json"],
                lab="like_lab",
                params={
                    "threads": threads,
                    "likes_per_thread": likes_per_thread,
                    "processes": modes,
                    "repeat": repeat,
                },
                durability=like_lab.commit_durability(),
                rows=[
                    {
                        "processes": mode,
                        "strategy": r.strategy,
                        "key": s.key,
                        "likes_per_s": r.throughput,
                        "p50_ms": r.p50_ms,
                        "p99_ms": r.p99_ms,
                        "retries": r.retries,
                        "deadlocks": r.deadlocks,
                        "lost": r.lost,
                        "count_equals_rows": r.count_equals_rows,
                        "read_ms": r.read_ms,
                    }
                    for mode, results in runs.items()
                    for s, r in zip(like_lab.STRATEGIES, results, strict=True)
                ],
            )
        if options["chart"]:
            charts.bars(
                options["chart"],
                title=f"{threads} clients liking one post: likes/s by strategy "
                f"({output.database()})",
                labels=[s.name for s in like_lab.STRATEGIES],
                series={
                    f"{threads} clients in {mode} process(es)": [r.throughput for r in results]
                    for mode, results in runs.items()
                },
                unit="likes/s",
            )
        wrong = [
            f"{r.strategy} ({mode} process(es))"
            for mode, results in runs.items()
            for r in results
            if r.like_rows != r.attempted
        ]
        if wrong:
            raise CommandError(f"Like rows differ from the likes attempted: {', '.join(wrong)}.")

    def _print(self, results) -> None:
        header = ("strategy", "likes/s", "p50 ms", "p99 ms", "retries", "deadlocks", "lost")
        header += ("count = rows", "read ms")
        rows = [
            (
                r.strategy,
                f"{r.throughput:,.0f}",
                f"{r.p50_ms:.1f}",
                f"{r.p99_ms:.1f}",
                str(r.retries),
                str(r.deadlocks),
                str(r.lost),
                "yes" if r.count_equals_rows else f"no ({r.stored} vs {r.like_rows})",
                f"{r.read_ms:.2f}",
            )
            for r in results
        ]
        output.table(self.stdout.write, header, rows)
        by_key = dict(zip((s.key for s in like_lab.STRATEGIES), results, strict=True))
        pessimistic = by_key["pessimistic"].throughput
        best = like_lab.best_exact(results)
        if pessimistic and best:
            self.stdout.write(
                f"The best exact strategy ({best.strategy}): "
                f"{best.throughput / pessimistic:.2f}x the throughput of the pessimistic lock; "
                f"the product's own path: {by_key['service'].throughput / pessimistic:.2f}x."
            )
