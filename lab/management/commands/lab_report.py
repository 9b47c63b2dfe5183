"""Every lab at one size, on the current database: lab-report/README.md with every table and
chart (``make lab``)."""

from __future__ import annotations

import io
import os
import platform
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from lab import output, seeding
from members import services as members

REPORT_SEED = 7_353  # the report's members are member<k>.s7353@seed.example


@dataclass(frozen=True)
class Size:
    big: int  # posts of the notes' member, 1900-01-01..2025-03-01
    other: int  # posts of the member beside it
    small: int  # posts of a member with few (the OR pitfall's)
    repeat: int
    depths: str
    disk_rows: int
    like: tuple[int, int]  # clients, likes each
    feed: list[str]


SIZES = {
    "small": Size(
        big=200_000,
        other=80_000,
        small=500,
        repeat=3,
        depths="1000,10000,100000",
        disk_rows=60_000,
        like=(16, 10),
        feed=["--followers", "1000,10000", "--crowd-posts", "10000", "--repeat", "5"],
    ),
    # The study notes' scale: 2.7M posts of one member beside 1M of another's.
    "full": Size(
        big=2_700_000,
        other=1_000_000,
        small=500,
        repeat=3,
        depths="1000,10000,100000,1000000",
        disk_rows=200_000,
        like=(32, 25),
        feed=["--repeat", "20"],
    ),
}

LESSONS = {
    "index_lab": (
        "Indexes, measured: the notes' calendar query through each access path",
        "A single-column index that finds a post but not the other column costs a lookup per "
        "post (and a temporary table for the GROUP BY); the composite (member_id, "
        "created_date) index is one covering range read; a table of one row per day "
        "(DailyPostCount) reads a row per day instead of an entry per post.",
    ),
    "pitfalls": (
        "Index pitfalls: before and after the fix",
        "A function on an indexed column, a string column compared with a number, a "
        "composite index without its leading column and an OR over two indexed columns each "
        "turn a seek into a scan; the fix turns it back, by orders of magnitude.",
    ),
    "paging_lab": (
        "Paging: OFFSET, the deferred join and keyset, by depth; and the count",
        "OFFSET reads and throws away every row it skips, so its cost grows with the depth; "
        "reading the skipped ids from the covering index (the deferred join) makes each "
        "skipped row cheaper but still walks them all; keyset seeks and costs the same at "
        "any depth. An exact COUNT(*) walks the whole index, a count table reads its rows, "
        "the optimizer's estimate is free and wrong.",
    ),
    "disk_lab": (
        "Disks and memory: insert order, commits, the buffer pool",
        "Keys that grow append to the clustered index's last page, which stays in memory; "
        "random UUIDs land anywhere and, once the table outgrows the buffer pool, read a page "
        "from disk per insert. A commit waits for the log on disk, so batching commits writes "
        "it once for many rows. A read the pool holds costs no disk read.",
    ),
    "like_lab": (
        "Likes under contention: every strategy, threads and processes",
        "Read-modify-write loses updates; a lock on one row makes every like wait its turn, "
        "and more so when the clients run in several processes; spreading the count over "
        "slots, or gathering it and writing it once per interval, lets likes commit side "
        "by side.",
    ),
    "feed_lab": (
        "The home feed: pull, push and hybrid",
        "Pull reads every followed author's posts at read time and grows with the "
        "followings; push reads one range of the reader's own feed whatever they follow; "
        "the write stays the same whatever the audience, and the fan-out is linear.",
    ),
}


class Command(BaseCommand):
    help = (
        "Run every lab at --size (small: minutes; full: the notes' scale, 3.7M posts) on the "
        "current database and write --out/README.md with every table, plan and chart, plus "
        "each lab's JSON and SVG. It seeds members of its own (and their posts) and removes "
        "them afterwards: the rest of the database is left as it was."
    )

    def add_arguments(self, parser):
        parser.add_argument("--size", choices=sorted(SIZES), default="small")
        parser.add_argument("--out", default="lab-report", help="the report folder")
        parser.add_argument(
            "--only", help="comma-separated labs to run (default: all): " + ", ".join(LESSONS)
        )

    def handle(self, *args, size, out, only, **options):
        chosen = SIZES[size]
        wanted = set(only.split(",")) if only else set(LESSONS)
        if unknown := wanted - set(LESSONS):
            raise CommandError(f"No such lab: {', '.join(sorted(unknown))}.")
        if connection.vendor == "mysql":
            try:
                seeding.check_load_data()
            except seeding.LoadDataUnavailable as exc:
                raise CommandError(str(exc)) from None
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        began = time.perf_counter()
        sections: list[str] = []
        member_ids: list[int] = []
        self.seeded = None
        try:
            if wanted & {"index_lab", "pitfalls", "paging_lab"}:
                member_ids = self._seed(chosen)
            big = member_ids[0] if member_ids else 0
            runs = [
                (
                    "index_lab",
                    [
                        "index_lab",
                        "--member",
                        big,
                        "--start",
                        "1900-01-01",
                        "--end",
                        "2025-03-01",
                        "--repeat",
                        chosen.repeat,
                    ],
                ),
                (
                    "pitfalls",
                    ["index_lab", "--pitfalls", "--member", big, "--repeat", chosen.repeat],
                ),
                (
                    "paging_lab",
                    [
                        "paging_lab",
                        "--member",
                        big,
                        "--depths",
                        chosen.depths,
                        "--repeat",
                        chosen.repeat,
                    ],
                ),
                ("disk_lab", ["disk_lab", "--rows", chosen.disk_rows]),
                (
                    "like_lab",
                    ["like_lab", "--threads", chosen.like[0], "--likes-per-thread", chosen.like[1]],
                ),
                ("feed_lab", ["feed_lab", *chosen.feed]),
            ]
            for name, command in runs:
                if name in wanted:
                    sections.append(self._run(name, [str(part) for part in command], folder))
        finally:
            if member_ids:
                self.stderr.write("removing the report's members and their posts ...")
                for member_id in member_ids:
                    seeding.posts_unseed(member_id=member_id)
                members.members_delete(member_ids=member_ids)
        seconds = time.perf_counter() - began
        readme = folder / "README.md"
        readme.write_text(self._readme(size, chosen, sections, seconds), encoding="utf-8")
        self.stdout.write(self.style.SUCCESS(f"Wrote {readme} in {seconds / 60:.1f} min."))

    def _seed(self, size: Size) -> list[int]:
        ids = seeding.members_seed(count=3, seed=REPORT_SEED)
        for member_id, count in zip(ids, (size.big, size.other, size.small), strict=True):
            self.stderr.write(f"seeding {count:,} posts for member {member_id} ...")
            seeding.posts_seed(
                member_id=member_id,
                count=count,
                start=date(1900, 1, 1),
                end=date(2025, 3, 1),
                seed=member_id,
            )
        self.seeded = (ids, size)
        return ids

    def _run(self, name: str, command: list[str], folder: Path) -> str:
        self.stderr.write(f"== {' '.join(command)}")
        json_path, chart_path = folder / f"{name}.json", folder / f"{name}.svg"
        out = io.StringIO()
        began = time.perf_counter()
        error = ""
        try:
            call_command(*command, "--json", str(json_path), "--chart", str(chart_path), stdout=out)
        except CommandError as exc:
            error = f"\n**The lab stopped: {exc}**\n"
        seconds = time.perf_counter() - began
        title, sentence = LESSONS[name]
        chart = f"![{title}]({chart_path.name})\n\n" if chart_path.exists() else ""
        return (
            f"## {title}\n\n{sentence}\n\n"
            f"`manage.py {' '.join(command)}` ({seconds:.0f} s; rows: [{json_path.name}]"
            f"({json_path.name}))\n\n{chart}```\n{out.getvalue().strip()}\n```\n{error}"
        )

    def _readme(self, size_name: str, size: Size, sections: list[str], seconds: float) -> str:
        data = ""
        if self.seeded:
            data = (
                f"The index and paging labs ran over posts seeded for the run and removed "
                f"afterwards: {size.big:,} by one member and {size.other:,} by another, "
                f"spread over 1900-01-01..2025-03-01 (the study notes' shape), and "
                f"{size.small:,} by a third.\n\n"
            )
        return (
            f"# Lab report ({size_name})\n\n"
            f"Every lab of the project at `LAB_SIZE={size_name}` on {output.database()}, "
            f"{platform.machine()} with {_cores()} cores, in {seconds / 60:.1f} min. "
            f"{data}Each section: what the lesson shows, the command that reproduces it, its "
            f"chart and its table (plans included).\n\n" + "\n".join(sections)
        )


def _cores() -> int:
    return os.cpu_count() or 1
