#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # manage.py is the developer's tool: DEBUG unless told otherwise (make serve and
    # make bench say DEBUG=0). The WSGI app that gunicorn runs has no such default.
    os.environ.setdefault("DEBUG", "true")
    # Commands run statements of minutes (bulk loads, the index lab); the database
    # timeouts are for the web server's requests (see DB_TIMEOUT in the settings).
    os.environ.setdefault("DB_TIMEOUT", "0")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
