"""The Celery app: ``celery -A config worker`` (``make worker``).

With ``CELERY_BROKER_URL`` empty (the default) there is no broker and no worker:
tasks run in-process, eagerly, when they are sent, which the project does only
after the transaction that asked for them commits.
"""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
@signals.beat_init.connect
@signals.beat_embedded_init.connect
def _publish_with_retries(**kwargs) -> None:
    # The settings make publishing fail at once, for the web requests that must not
    # wait on a broker that is down. In a worker and its beat nobody waits, and a
    # publish without retries never replaces a connection the broker closed: after
    # a broker restart the beat would fail every sweep for ever.
    app.conf.task_publish_retry = True
