"""Break each part of the running cluster under load; exit 1 if anything was lost."""

from django.core.management.base import BaseCommand, CommandError

from deploy import cluster
from lab import drill


class Command(BaseCommand):
    help = (
        "Under a bounded load through nginx, kill an app server, the replica, Redis and a "
        "worker mid-fan-out, and stop the broker, one at a time; print per part the requests "
        "and failures, then check that nothing was lost (posts, feeds, counts, mails, the "
        "replica). Run against the cluster: make drill."
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
        result = drill.run(
            members=members,
            readers=readers,
            followers=followers,
            burst=burst,
            log=self.stderr.write,
        )
        out = self.stdout.write
        out(f"\n{'part broken':<30} {'requests':>9} {'failed':>7} {'cut writes':>11}  note")
        for name, tally, note in result.phases:
            cut = len(tally.interrupted)
            out(f"{name:<30} {tally.requests:>9,} {tally.failed:>7} {cut:>11}  {note}")
            for reason, n in tally.failures.most_common():
                out(f"{'':<30} {'':>9} {n:>7}  {reason}")
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
            raise CommandError("The drill lost something or failed requests (above).")
        out("\nNothing lost, no request failed.")
