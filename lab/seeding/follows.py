"""Bulk loading of follows: a member's huge audience, or a realistic graph.

Follows go in with chunked ``INSERT IGNORE`` (one transaction per chunk); their
counters are then added in one upsert (or recomputed, for a graph), so the counts
are right when the load ends. Like the rest of the lab, it writes the follows tables
directly.
"""

from __future__ import annotations

import random

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.db import upsert_add
from follows import services as follows
from follows.models import Follow, FollowCount
from lab.seeding.members import members_seed


def _insert_follows(pairs: list[tuple[int, int]], *, chunk_size: int = 10_000) -> int:
    """Insert ``(follower, followee)`` pairs, skipping those that exist; returns new rows."""
    q = connection.ops.quote_name
    ignore = "INSERT IGNORE" if connection.vendor == "mysql" else "INSERT OR IGNORE"
    sql = (
        f"{ignore} INTO {q(Follow._meta.db_table)} "
        f"({q('follower_id')}, {q('followee_id')}, {q('created_at')}) VALUES (%s, %s, %s)"
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    inserted = 0
    for start in range(0, len(pairs), chunk_size):
        chunk = pairs[start : start + chunk_size]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, [(a, b, now) for a, b in chunk])
            inserted += cursor.rowcount
    return inserted


def follows_seed_followers(*, member_id: int, count: int, seed: int = 1) -> int:
    """``count`` new members who all follow ``member_id``, bulk loaded; returns follows made."""
    follower_ids = members_seed(count=count, seed=seed)
    inserted = _insert_follows([(f, member_id) for f in follower_ids])
    upsert_add(
        FollowCount,
        keys=["member_id"],
        counters=["followers", "following"],
        rows=[(member_id, len(follower_ids), 0)] + [(f, 0, 1) for f in follower_ids],
    )
    return inserted


def follows_seed_graph(*, member_ids: list[int], seed: int = 1, mean_following: int = 20) -> int:
    """A follow graph among ``member_ids`` shaped like real ones; returns follows made.

    Who gets followed is Zipf-distributed over a random ranking (a few members
    are followed by many), and how many each member follows is geometric (most
    follow few). Existing follows are kept; counters are recomputed afterwards.
    """
    if len(member_ids) < 2:
        raise ValidationError(_("A graph needs at least two members."))
    rng = random.Random(seed)
    ranked = member_ids[:]
    rng.shuffle(ranked)
    weights = [1 / (rank + 1) ** 1.1 for rank in range(len(ranked))]
    pairs: set[tuple[int, int]] = set()
    for follower in member_ids:
        wanted = min(len(ranked) - 1, int(rng.expovariate(1 / mean_following)) + 1)
        for followee in rng.choices(ranked, weights=weights, k=wanted):
            if followee != follower:
                pairs.add((follower, followee))
    inserted = _insert_follows(sorted(pairs))
    follows.follow_counts_rebuild()
    return inserted
