"""Korean: the morning/afternoon marker comes before the time ("오전 7:16").

Django's own Korean DATETIME_FORMAT puts it after ("7:16 오전"), which Korean
readers do not write; its TIME_FORMAT is already right. Everything else is Django's.
"""

from django.conf.locale.ko.formats import *  # noqa: F403

DATETIME_FORMAT = "Y년 n월 j일 A g:i"
