"""The Celery app: ``celery -A config worker`` (``make worker``).

With ``CELERY_BROKER_URL`` empty (the default) there is no broker and no worker:
tasks run in-process, eagerly, when they are sent, which the project does only
after the transaction that asked for them commits.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
