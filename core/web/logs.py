"""Logging helpers."""

import logging

from django_guid.context import guid

MAX_MESSAGE = 300


class OneLine(logging.Filter):
    """Log a record as one short line: no traceback, the message cut to 300 characters.

    Used for ``django.security``: its records carry what an attacker sent (an
    8 000-character Host header), and their tracebacks say nothing new.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage().replace("\n", " ")
        if len(message) > MAX_MESSAGE:
            message = f"{message[:MAX_MESSAGE]}... ({len(message)} characters)"
        record.msg, record.args = message, None
        record.exc_info = record.exc_text = record.stack_info = None
        return True


class RequestId(logging.Filter):
    """Put the request's id (django-guid's) on each record as ``request_id``; "-" outside one."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = guid.get() or "-"
        return True
