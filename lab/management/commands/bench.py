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
        "keyset at depth vs OFFSET, and every admin changelist. Removes its data afterwards."
    )

    def add_arguments(self, parser):
        parser.add_argument("--posts", type=int, default=1_000_000, help="posts to seed")
        parser.add_argument("--repeat", type=int, default=20, help="runs per figure (median)")
        parser.add_argument("--json", type=Path, help="also write the figures here")
        parser.add_argument("--keep", action="store_true", help="keep the bench member's data")

    def handle(self, *args, posts, repeat, json: Path | None, keep, **options):
        if settings.DEBUG:
            raise CommandError(
                "Run the bench with DEBUG off (DEBUG=0 SECRET_KEY=...): "
                "debug mode records every query and adds the toolbar."
            )
        if posts < 2:
            raise CommandError("--posts must be at least 2.")
        if repeat < 1:
            raise CommandError("--repeat must be at least 1.")
        bench = Bench(posts=posts, repeat=repeat, log=lambda line: self.stderr.write(line))
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
