"""Bulk-load members for experiments at scale."""

import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from lab import seeding


class Command(BaseCommand):
    help = (
        "Load N members fast (chunked multi-row INSERTs), each with the first row of "
        "its nickname history. Seeded members get unusable passwords."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, required=True, help="how many members")
        parser.add_argument("--seed", type=int, default=1, help="same seed, same data")

    def handle(self, *args, count, seed, **options):
        if count <= 0:
            raise CommandError("--count must be a positive number.")
        began = time.perf_counter()
        with tqdm(total=count, unit="members", unit_scale=True, disable=None) as bar:
            ids = seeding.members_seed(count=count, seed=seed, on_chunk=bar.update)
        seconds = time.perf_counter() - began
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {len(ids):,} members (ids {ids[0]}..{ids[-1]}) in {seconds:.1f} s: "
                f"{len(ids) / seconds:,.0f} rows/s."
            )
        )
