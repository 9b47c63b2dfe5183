"""Recompute DailyPostCount from the posts table."""

from django.core.management.base import BaseCommand, CommandError

from members import services as members
from posts import services as posts


class Command(BaseCommand):
    help = (
        "Recompute the per-day post counts the calendar reads, from the posts "
        "(all members, or one with --member)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--member", type=int, help="only this member id")

    def handle(self, *args, member=None, **options):
        if member is not None and members.member_public(member_id=member) is None:
            raise CommandError(f"No member with id {member}.")
        rows = posts.daily_counts_rebuild(member_id=member)
        scope = f"member {member}" if member is not None else "all members"
        self.stdout.write(self.style.SUCCESS(f"Rebuilt {rows} daily counts for {scope}."))
