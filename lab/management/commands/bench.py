"""The performance figures and their targets, as a table and JSON."""

import json as jsonlib
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from lab import seeding
from lab.bench import Bench, as_json


class Command(BaseCommand):
    help = (
        "Seed a bench member with N posts and measure, in one run: the seed rate (on "
        "MySQL/MariaDB beside LOAD DATA of the same rows into the same table), the "
        "calendar from DailyPostCount vs GROUP BY, the calendar pages, timeline pages by "
        "keyset at depth vs OFFSET, every admin changelist, the home page (push) by number "
        "of followings beside the all-posts page and pull, a post's write and its fan-out to "
        "--fanout-followers followers, and concurrent likes of one post. Removes its data "
        "afterwards."
    )

    def add_arguments(self, parser):
        parser.add_argument("--posts", type=int, default=1_000_000, help="posts to seed")
        parser.add_argument("--repeat", type=int, default=20, help="runs per figure (median)")
        parser.add_argument("--json", type=Path, help="also write the figures here")
        parser.add_argument("--keep", action="store_true", help="keep the bench member's data")
        parser.add_argument(
            "--followings", type=int, default=1_000, help="authors the home reader follows"
        )
        parser.add_argument(
            "--fanout-followers",
            type=int,
            help="the fan-out author's followers (default: 100000 on MySQL/MariaDB, 10000 SQLite)",
        )
        parser.add_argument("--like-threads", type=int, default=32, help="concurrent likers")
        parser.add_argument("--likes-per-thread", type=int, default=20, help="likes per thread")

    def handle(self, *args, posts, repeat, json: Path | None, keep, **options):
        sizes = {
            "followings": options["followings"],
            "fanout_followers": options["fanout_followers"],
            "like_threads": options["like_threads"],
            "likes_per_thread": options["likes_per_thread"],
        }
        if settings.DEBUG:
            raise CommandError(
                "Run the bench with DEBUG off (DEBUG=0 SECRET_KEY=...): "
                "debug mode records every query and adds the toolbar."
            )
        if posts < 2:
            raise CommandError("--posts must be at least 2.")
        if repeat < 1:
            raise CommandError("--repeat must be at least 1.")
        if any(value is not None and value < 1 for value in sizes.values()):
            raise CommandError(
                "--followings, --fanout-followers, --like-threads and --likes-per-thread "
                "must be at least 1."
            )
        bench = Bench(posts=posts, repeat=repeat, log=lambda line: self.stderr.write(line), **sizes)
        try:
            figures = bench.run()
        except seeding.LoadDataUnavailable as exc:
            raise CommandError(str(exc)) from None
        finally:
            if not keep:
                bench.clean_up()
        report = as_json(figures, posts=posts)
        self._print(report)
        if json:
            json.write_text(jsonlib.dumps(report, indent=2) + "\n")
            self.stdout.write(f"Wrote {json}.")

    def _print(self, report: dict) -> None:
        self.stdout.write(f"\n{report['database']}, {report['posts']:,} posts")
        rows = [("figure", "value", "target", "")]
        for f in report["figures"].values():
            verdict = {True: "ok", False: "MISSED", None: ""}[f["ok"]]
            value = "n/a" if f["value"] is None else f"{f['value']:,.2f} {f['unit']}"
            rows.append((f["label"], value, f["target"], verdict))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        for row in rows:
            self.stdout.write("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
        notes = [f for f in report["figures"].values() if f["note"]]
        if notes:
            self.stdout.write("\nNotes:")
        for f in notes:
            self.stdout.write(f"- {f['label']}: {f['note']}")
