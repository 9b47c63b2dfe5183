"""Each log line is printed once: one handler, on the root logger."""

import logging


def test_django_loggers_end_at_the_root_handler_only():
    # (pytest adds capturing handlers to the root, so only Django's side is checked.)
    for name in ("django", "django.server", "django.request", "django.db.backends"):
        logger = logging.getLogger(name)
        assert logger.handlers == [], name
        assert logger.propagate, name
