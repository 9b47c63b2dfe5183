"""Queue again the welcome emails still pending (what the worker's beat runs)."""

from django.core.management.base import BaseCommand

from members import mail


class Command(BaseCommand):
    help = (
        "Queue again every welcome email not sent 5 minutes after it was last queued "
        "(after a broker outage, say). Without a broker it sends them in-process."
    )

    def handle(self, *args, **options):
        queued = mail.sweep()
        self.stdout.write(self.style.SUCCESS(f"Queued {queued} pending welcome emails again."))
