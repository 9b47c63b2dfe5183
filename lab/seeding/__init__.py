"""Every bulk loader of the project: members, follows and posts, at many thousands of rows a
second (``seed_members``, ``seed_follows``, ``seed_posts``, and the labs and the bench).

The loaders write the domains' tables directly, as the rest of the lab reads them:
bulk loading is what they measure.
"""

from lab.seeding.follows import follows_seed_followers, follows_seed_graph
from lab.seeding.members import SEED_EMAIL_DOMAIN, members_seed
from lab.seeding.posts import (
    LOAD_CHUNK_SIZE,
    LoadDataUnavailable,
    check_load_data,
    load_data_escape,
    load_file,
    post_chunks,
    posts_seed,
    posts_unseed,
    write_load_file,
)

__all__ = [
    "LOAD_CHUNK_SIZE",
    "SEED_EMAIL_DOMAIN",
    "LoadDataUnavailable",
    "check_load_data",
    "follows_seed_followers",
    "follows_seed_graph",
    "load_data_escape",
    "load_file",
    "members_seed",
    "post_chunks",
    "posts_seed",
    "posts_unseed",
    "write_load_file",
]
