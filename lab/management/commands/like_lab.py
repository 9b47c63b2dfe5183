"""The like lesson: the same concurrent likes of one counter through each strategy."""

from django.core.management.base import BaseCommand, CommandError

from lab import like_lab


class Command(BaseCommand):
    help = (
        "Like one counter from --threads threads at once (each its own connection), "
        "--likes-per-thread times each, through every strategy: read-modify-write, "
        "pessimistic lock, optimistic lock, like table + counter, like table + sharded "
        "counter, then the product's likes.services on a real post (throw-away members, "
        "removed afterwards). Prints throughput, p50/p99 latency per like, retries, deadlocks "
        "and lock wait timeouts, lost updates, and whether the count equals the like rows. "
        "The first five use the lab's own scratch tables, emptied before each run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--threads", type=int, default=32, help="concurrent likers")
        parser.add_argument("--likes-per-thread", type=int, default=25, help="likes per thread")
        parser.add_argument("--repeat", type=int, default=1, help="runs per strategy, added up")

    def handle(self, *args, threads, likes_per_thread, repeat, **options):
        if threads < 1 or likes_per_thread < 1 or repeat < 1:
            raise CommandError("--threads, --likes-per-thread and --repeat must be at least 1.")
        results = like_lab.measure(
            threads=threads,
            likes_per_thread=likes_per_thread,
            repeat=repeat,
            on_strategy=lambda s: self.stderr.write(f"liking through {s.name} ..."),
        )
        self.stdout.write(
            f"\n{like_lab.commit_durability()}; {threads} threads x {likes_per_thread} likes "
            f"of one counter, {repeat} run(s) per strategy:"
        )
        self._print(results)
        wrong = [r.strategy for r in results if r.like_rows != r.attempted]
        if wrong:
            raise CommandError(f"Like rows differ from the likes attempted: {', '.join(wrong)}.")

    def _print(self, results) -> None:
        header = ("strategy", "likes/s", "p50 ms", "p99 ms", "retries", "deadlocks", "lost")
        header += ("count = rows",)
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
            )
            for r in results
        ]
        widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]
        for line in [header, *rows]:
            self.stdout.write("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)))
        product = next(r for r in results if r.strategy.endswith("(product)"))
        pessimistic = next(r for r in results if r.strategy == "pessimistic lock")
        if pessimistic.throughput:
            self.stdout.write(
                f"The product's strategy: {product.throughput / pessimistic.throughput:.1f}x "
                "the throughput of the pessimistic lock."
            )
