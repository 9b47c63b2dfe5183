"""Break each part of the running cluster under load; exit 1 if anything was lost."""

import time

from django.core.management.base import BaseCommand, CommandError

from deploy import cluster
from lab import drill
from lab.drill import DRILL_ALERTS


class Command(BaseCommand):
    help = (
        "Under a bounded load through nginx, kill an app server, the replica, Redis and a "
        "worker mid-fan-out, stop the broker and hang the replica, one at a time; print per "
        "part the requests and failures, how long it took to come back by itself and its "
        "alert to fire and clear, then check that nothing was lost (posts, feeds, counts, "
        "mails, the replica). Run against the cluster: make drill."
    )

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=6, help="logged-in members in the load")
        parser.add_argument("--readers", type=int, default=2, help="anonymous readers")
        parser.add_argument(
            "--followers", type=int, default=30_000, help="followers of the fanned-out author"
        )
        parser.add_argument("--burst", type=int, default=200, help="sign-ups in the mail burst")

    def handle(self, *args, members, readers, followers, burst, **options):
        if min(members, followers, burst) < 1 or readers < 0:
            raise CommandError(
                "--members, --followers and --burst must be at least 1, --readers at least 0."
            )
        if len(cluster.app_roles()) < 2:
            raise CommandError("The drill kills an app server: it needs CLUSTER_APPS of 2 or more.")
        down = [row["role"] for row in cluster.status_rows() if row["state"] != "up"]
        if down:
            raise CommandError(f"The cluster is not up ({', '.join(down)} down): make cluster")
        self._wait_for_quiet_alerts()
        result = drill.run(
            members=members,
            readers=readers,
            followers=followers,
            burst=burst,
            log=self.stderr.write,
        )
        out = self.stdout.write
        out(
            f"\n{'part broken':<28} {'requests':>9} {'failed':>7} {'cut writes':>10} "
            f"{'back after':>10} {'alert after':>11} {'cleared':>8}  alert"
        )
        for phase in result.phases:
            tally = phase.tally
            out(
                f"{phase.name:<28} {tally.requests:>9,} {tally.failed:>7} "
                f"{len(tally.interrupted):>10} {_seconds(phase.back):>10} "
                f"{_seconds(phase.fired):>11} {_seconds(phase.cleared):>8}  "
                f"{phase.alert or 'none fired'}"
            )
            if phase.note:
                out(f"{'':<28} {phase.note}")
            for reason, n in tally.failures.most_common():
                out(f"{'':<28} {'':>9} {n:>7}  {reason}")
        out(
            "\nback after: from the break until the part answered again, restarted by "
            "supervisord (the hung one: let go once its alert fired); alert after: from the "
            "break until Prometheus fired it; cleared: from the part's return until its "
            "alerts stopped."
        )
        s = result.signup
        out(
            f"\nsign-ups: one at a time {s['quiet p50']:.0f} ms p50 with no mail waiting, "
            f"{s['backlog p50']:.0f} ms p50 with {s['backlog']:.0f} mails waiting "
            f"({s['backlog p50'] / s['quiet p50']:.2f}x); the burst: {s['burst p50']:.0f} ms p50, "
            f"{s['burst p95']:.0f} ms p95, answered in {s['burst seconds']:.1f} s; its mails "
            f"all delivered {s['mail seconds']:.1f} s after it began"
        )
        out(f"\n{'check':<20} {'lost':>5}  detail")
        for check in result.checks:
            out(f"{check.name:<20} {check.lost:>5}  {check.detail}")
        if not result.ok:
            raise CommandError(
                "The drill lost something, failed requests, or a part or its alert did not "
                "come and go (above)."
            )
        out(
            "\nNothing lost, no request failed; every part came back by itself, every alert "
            "fired and cleared."
        )

    def _wait_for_quiet_alerts(self) -> None:
        """A part's alert still firing from an earlier break would be taken for this
        drill's (the alerts on answers and backlogs may fire: the drill does not watch them)."""
        deadline = time.monotonic() + 60
        while True:
            try:
                firing = [a for a in cluster.firing_alerts() if a["alertname"] in DRILL_ALERTS]
            except OSError as exc:
                raise CommandError(f"Prometheus does not answer ({exc}): make cluster") from exc
            if not firing:
                return
            if time.monotonic() > deadline:
                names = ", ".join(sorted({a["alertname"] for a in firing}))
                raise CommandError(f"Alerts fire before the drill began: {names}")
            time.sleep(1)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"
