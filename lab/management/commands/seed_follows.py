"""Bulk-load follows: a crowd following one member, or a realistic graph."""

import time

from django.core.management.base import BaseCommand, CommandError

from lab import seeding
from members import services as members


class Command(BaseCommand):
    help = (
        "Either --member ID --followers N: N new members (bulk loaded) who all follow ID; "
        "or --graph --members N: a follow graph among the N newest members in which most "
        "follow few and a few are followed by many. Counters are kept right."
    )

    def add_arguments(self, parser):
        parser.add_argument("--member", type=int, help="the member to be followed")
        parser.add_argument("--followers", type=int, help="how many new followers")
        parser.add_argument("--graph", action="store_true", help="seed a graph instead")
        parser.add_argument("--members", type=int, help="with --graph: how many members")
        parser.add_argument("--mean-following", type=int, default=20, help="with --graph")
        parser.add_argument("--seed", type=int, default=1, help="same seed, same data")

    def handle(self, *args, member, followers, graph, members: int | None, seed, **options):
        began = time.perf_counter()
        if graph:
            made = self._graph(members, seed, options["mean_following"])
        else:
            made = self._crowd(member, followers, seed)
        seconds = time.perf_counter() - began
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {made:,} follows in {seconds:.1f} s: {made / seconds:,.0f} rows/s."
            )
        )

    def _crowd(self, member_id, count, seed) -> int:
        if member_id is None or count is None:
            raise CommandError("Give --member ID --followers N, or --graph --members N.")
        if count <= 0:
            raise CommandError("--followers must be a positive number.")
        if members.member_public(member_id=member_id) is None:
            raise CommandError(f"No member with id {member_id}.")
        return seeding.follows_seed_followers(member_id=member_id, count=count, seed=seed)

    def _graph(self, count, seed, mean_following) -> int:
        if count is None or count < 2:
            raise CommandError("--graph needs --members N with N of at least 2.")
        if mean_following <= 0:
            raise CommandError("--mean-following must be a positive number.")
        member_ids = members.member_ids_latest(limit=count)
        if len(member_ids) < count:
            raise CommandError(
                f"Only {len(member_ids)} members exist; seed more with seed_members first."
            )
        return seeding.follows_seed_graph(
            member_ids=member_ids, seed=seed, mean_following=mean_following
        )
