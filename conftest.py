"""Suite-wide test set-up: the ``mysql`` marker, and the fixtures of a real broker,
worker or silent peer (config/tests/workers.py)."""

import pytest
from django.db import connection

pytest_plugins = ["config.tests.workers"]


def pytest_collection_modifyitems(config, items):
    if connection.vendor == "mysql":
        return
    skip = pytest.mark.skip(reason="needs MySQL/MariaDB: set DATABASE_URL=mysql://...")
    for item in items:
        if "mysql" in item.keywords:
            item.add_marker(skip)
