"""Queue again every outbox row not done in time (what the worker's beat runs)."""

from django.core.management.base import BaseCommand

from core import outbox


class Command(BaseCommand):
    help = (
        "Queue again every outbox row (fan-out jobs, welcome emails) that never reached the "
        "queue or is not done in time (after a broker outage, say); without a broker the "
        "work runs in-process. Also forgets fan-out jobs done more than a day ago."
    )

    def handle(self, *args, **options):
        for label, queued in outbox.outbox_sweep().items():
            self.stdout.write(f"{label}: {queued} queued again")
        self.stdout.write(self.style.SUCCESS("Swept every outbox."))
