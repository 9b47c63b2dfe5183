"""The notes' first chapter: insert order, commits and the buffer pool, on a scratch database."""

from django.core.management.base import BaseCommand, CommandError

from lab import charts, disk_lab, output


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
        "On a scratch database of its own (MySQL/MariaDB: a throwaway MariaDB server it starts "
        "with a small buffer pool and stops afterwards; SQLite: a scratch file), never the "
        "database DATABASE_URL names: insert --rows rows into a table keyed by auto-increment, "
        "random UUID and time-ordered UUID (rows/s as the table outgrows the pool); the same "
        "rows with one commit per row and batched; point reads from the buffer pool and from "
        "disk with the pool's own counters (MySQL/MariaDB only)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=200_000, help="rows per key (200000)")
        parser.add_argument("--batch", type=int, default=1_000, help="rows per commit (1000)")
        parser.add_argument(
            "--commit-rows", type=int, default=2_000, help="rows of the commit test (2000)"
        )
        parser.add_argument(
            "--commit-sizes", default="1,10,100,1000", help="rows per commit to compare"
        )
        parser.add_argument("--reads", type=int, default=5_000, help="point reads each (5000)")
        parser.add_argument(
            "--buffer-pool", default="8M", help="the throwaway server's buffer pool (8M)"
        )
        parser.add_argument("--dir", help="where the scratch data goes (default: the temp dir)")
        output.add_arguments(parser)

    def handle(self, *args, rows, batch, commit_rows, commit_sizes, reads, buffer_pool, **options):
        if min(rows, batch, commit_rows, reads) < 1:
            raise CommandError("--rows, --batch, --commit-rows and --reads must be at least 1.")
        try:
            report = disk_lab.run(
                rows=rows,
                batch=batch,
                commit_rows=commit_rows,
                commit_sizes=sizes(commit_sizes),
                point_reads=reads,
                buffer_pool=buffer_pool,
                directory=options["dir"],
                on_step=self.stderr.write,
            )
        except disk_lab.ScratchUnavailable as exc:
            raise CommandError(str(exc)) from None
        write = self.stdout.write
        write(f"\nOn {report.description}.")
        write(f"\n1. Insert order: {rows:,} rows of {disk_lab.FILLER} bytes, {batch:,} a commit:")
        output.table(
            write,
            ("key", "rows in table", "about MB", "rows/s", "pages read from disk"),
            [
                (
                    s.key,
                    f"{s.rows:,}",
                    f"{s.size_mb:.0f}",
                    f"{s.rows_per_s:,.0f}",
                    "-" if s.disk_reads is None else f"{s.disk_reads:,}",
                )
                for s in report.steps
            ],
        )
        write(f"\n2. Commits: {commit_rows:,} rows, a commit every N rows:")
        slowest = min(c.rows_per_s for c in report.commits) or 1
        output.table(
            write,
            ("rows per commit", "rows/s", "x one per row", "log fsyncs"),
            [
                (
                    f"{c.rows_per_commit:,}",
                    f"{c.rows_per_s:,.0f}",
                    f"{c.rows_per_s / slowest:.1f}",
                    "-" if c.log_syncs is None else f"{c.log_syncs:,}",
                )
                for c in report.commits
            ],
        )
        if report.reads:
            write(f"\n3. {reads:,} point reads by primary key of the auto-increment table:")
            output.table(
                write,
                ("rows read", "reads/s", "pool read requests", "read from disk", "hit ratio"),
                [
                    (
                        r.name,
                        f"{r.reads_per_s:,.0f}",
                        f"{r.requests:,}",
                        f"{r.from_disk:,}",
                        f"{r.hit_ratio:.1%}",
                    )
                    for r in report.reads
                ],
            )
        else:
            write(
                "\n3. Reads from the buffer pool and from disk: MySQL/MariaDB only. SQLite has "
                "no buffer pool of its own (its page cache sits on the operating system's, "
                "which holds the whole file) and keeps no counters Python can read."
            )
            write(
                "(On SQLite the insert order shows less than on InnoDB for the same reason: "
                "a page that leaves SQLite's small cache is still in the operating system's.)"
            )
        if options["json"]:
            output.write_json(
                options["json"],
                lab="disk_lab",
                params={
                    "rows": rows,
                    "batch": batch,
                    "commit_rows": commit_rows,
                    "buffer_pool": buffer_pool,
                    "reads": reads,
                },
                scratch=report.description,
                rows=[
                    {
                        "key": s.key,
                        "rows": s.rows,
                        "rows_per_s": s.rows_per_s,
                        "disk_reads": s.disk_reads,
                        "size_mb": s.size_mb,
                    }
                    for s in report.steps
                ],
                commits=[
                    {
                        "rows_per_commit": c.rows_per_commit,
                        "rows_per_s": c.rows_per_s,
                        "log_syncs": c.log_syncs,
                    }
                    for c in report.commits
                ],
                reads=[
                    {
                        "name": r.name,
                        "reads_per_s": r.reads_per_s,
                        "requests": r.requests,
                        "from_disk": r.from_disk,
                        "hit_ratio": r.hit_ratio,
                    }
                    for r in report.reads
                ],
            )
        if options["chart"]:
            charts.lines(
                options["chart"],
                title=f"Inserts/s as the table grows past a {buffer_pool} buffer pool, by "
                f"primary key ({output.database() if not report.reads else 'throwaway MariaDB'})",
                series={
                    key: [(s.rows, s.rows_per_s) for s in report.steps if s.key == key]
                    for key in disk_lab.KEYS
                },
                xlabel="rows in the table",
                ylabel="rows/s",
                logy=True,
            )
