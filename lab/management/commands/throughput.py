"""Requests a second of each page beside a static file, served by the production server."""

import json as jsonlib
from dataclasses import asdict
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from lab import throughput


class Command(BaseCommand):
    help = (
        "Start gunicorn (DEBUG off) on a loopback port over the current database, run wrk "
        "against a static file and each page (anonymous, and logged in as members of the "
        "run's own, each with a session of their own), print requests/s, p50/p99 latency "
        "and the ratio to the static file beside its target, then stop the server."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seconds", type=int, default=10, help="wrk's duration per page")
        parser.add_argument("--connections", type=int, default=16, help="wrk's -c")
        parser.add_argument("--threads", type=int, default=2, help="wrk's -t")
        parser.add_argument(
            "--members", type=int, default=16, help="logged-in members, one session each"
        )
        parser.add_argument("--json", type=Path, help="also write the rows here")

    def handle(self, *args, seconds, connections, threads, members, json, **options):
        if min(seconds, connections, threads, members) <= 0:
            raise CommandError(
                "--seconds, --connections, --threads and --members must be positive."
            )
        try:
            rows = throughput.measure(
                seconds=seconds,
                connections=connections,
                threads=threads,
                member_count=members,
                log=self.stderr.write,
            )
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        heads = ("req/s", "p50 ms", "p99 ms", "errors")
        self.stdout.write(
            f"{'request':<30} " + " ".join(f"{h:>8}" for h in heads) + " of static  target"
        )
        for row in rows:
            target = "" if row.target is None else f">= {row.target:.0%}"
            if row.target is not None and row.ratio < row.target:
                target += " missed"
            self.stdout.write(
                f"{row.label:<30} {row.requests_per_s:>8,.0f} {row.p50_ms:>8.1f} "
                f"{row.p99_ms:>8.1f} {row.errors:>8} {row.ratio:>9.0%}  {target}".rstrip()
            )
        if json:
            json.write_text(jsonlib.dumps([asdict(r) for r in rows], indent=2))
