"""Seed a demo member with some posts, once, so a fresh ``make run`` has something to show."""

import random
from datetime import date, datetime, time, timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from members import services as members
from posts import services as posts

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - a published demo login, local only
DEMO_DAYS = 90


class Command(BaseCommand):
    help = (
        "Create the demo member (a superuser) with posts over the last 90 days, "
        "unless it exists, and print its login."
    )

    def handle(self, *args, **options):
        if members.member_public_by_email(email=DEMO_EMAIL) is None:
            demo = members.member_register(
                email=DEMO_EMAIL,
                nickname="demo",
                birthdate=date(1990, 1, 1),
                password=DEMO_PASSWORD,
                is_staff=True,
                is_superuser=True,
            )
            written = self._write_posts(demo.pk)
            self.stdout.write(self.style.SUCCESS(f"Created the demo member with {written} posts."))
        self.stdout.write(f"Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD} (also for /admin/)")

    def _write_posts(self, member_id: int) -> int:
        rng = random.Random(42)  # the same demo every time
        tz = timezone.get_default_timezone()
        start = timezone.localdate(timezone=tz) - timedelta(days=DEMO_DAYS)
        written = 0
        for offset in range(DEMO_DAYS):
            day = start + timedelta(days=offset)
            for n in range(rng.choice([0, 0, 1, 1, 2, 3, 5])):
                at = datetime.combine(day, time(9 + 2 * n, rng.randrange(60)), tz)
                posts.post_write(
                    member_id=member_id,
                    contents=f"Demo post {written + 1} on {day:%Y-%m-%d}.",
                    at=at,
                )
                written += 1
        return written
