"""Seed a demo member once, so a fresh ``make run`` has someone to log in as."""

from datetime import date

from django.core.management.base import BaseCommand

from members import services as members

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - a published demo login, local only


class Command(BaseCommand):
    help = "Create the demo member (a superuser) unless it exists, and print its login."

    def handle(self, *args, **options):
        demo = members.member_public_by_email(email=DEMO_EMAIL)
        if demo is None:
            members.member_register(
                email=DEMO_EMAIL,
                nickname="demo",
                birthdate=date(1990, 1, 1),
                password=DEMO_PASSWORD,
                is_staff=True,
                is_superuser=True,
            )
            self.stdout.write(self.style.SUCCESS("Created the demo member."))
        self.stdout.write(f"Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD} (also for /admin/)")
