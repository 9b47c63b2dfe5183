"""Logging helpers: one record is one line, whatever a request carried into it."""

import logging
import re

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


# Characters that could end a line or forge one in a terminal or a log reader: the
# C0/C1 controls (LF, CR, NEL, ESC...), the Unicode line and paragraph separators,
# and the bidi overrides and isolates that reorder what a reader sees.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def escape(value: object) -> str:
    """``value`` as text with every unsafe character written as its escape (``\\n``,
    ``\\x1b``, ``\\u2028``); other text (Korean too) is left as it is."""
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(value))


class Escape(logging.Filter):
    """Escape the control characters of every record's message, its arguments filled in:
    a path with ``%0A`` in it cannot write a second, forged log line. On every handler
    (settings.LOGGING), so it holds for any logger, ours or a library's. Tracebacks
    are formatted apart from the message and keep their lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        escaped = escape(message)
        if escaped != message:
            record.msg, record.args = escaped, None
        return True


class RequestId(logging.Filter):
    """Put the request's id (django-guid's) on each record as ``request_id``; "-" outside one."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = guid.get() or "-"
        return True
