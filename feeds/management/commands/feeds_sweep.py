"""Send again the fan-out jobs that should have finished (what the worker's beat runs)."""

from django.core.management.base import BaseCommand

from feeds import usecases


class Command(BaseCommand):
    help = (
        "Send again every unfinished fan-out job last sent more than 30 s ago (after a "
        "broker outage, say), and forget jobs done more than a day ago."
    )

    def handle(self, *args, **options):
        sent = usecases.sweep()
        self.stdout.write(self.style.SUCCESS(f"Sent {sent} unfinished fan-out jobs again."))
