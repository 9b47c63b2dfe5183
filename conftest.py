"""Suite-wide test set-up: the ``mysql`` marker, a logged-in member's client, every
test starting with empty caches, and the fixtures of a real broker, worker or
silent peer (core/testing/workers.py)."""

import pytest
from django.db import connection

pytest_plugins = ["core.testing.workers"]


def pytest_collection_modifyitems(config, items):
    if connection.vendor == "mysql":
        return
    skip = pytest.mark.skip(reason="needs MySQL/MariaDB: set DATABASE_URL=mysql://...")
    for item in items:
        if "mysql" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def member_client(client):
    """The test client, logged in as a new member (``client.member``), nickname "kim"."""
    from members.tests.mothers import a_member

    member = a_member(nickname="kim")
    client.force_login(member)
    client.member = member
    return client


@pytest.fixture(autouse=True)
def _empty_caches():
    """Nothing cached by an earlier test: its rows (ids are reused) are gone."""
    from django.core.cache import cache

    from core.cache import local_clear_all

    cache.clear()
    local_clear_all()
