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
        parser.add_argument(
            "--check",
            action="store_true",
            help="compare with GROUP BY over the posts and change nothing; exit 1 if they differ",
        )

    def handle(self, *args, member=None, check=False, **options):
        if member is not None and members.member_public(member_id=member) is None:
            raise CommandError(f"No member with id {member}.")
        scope = f"member {member}" if member is not None else "all members"
        if check:
            differences = posts.daily_counts_differences(member_id=member)
            for member_id, day, stored, actual in differences[:20]:
                self.stdout.write(f"member {member_id} on {day}: stored {stored}, posts {actual}")
            if differences:
                raise CommandError(f"{len(differences)} daily counts differ from the posts.")
            self.stdout.write(
                self.style.SUCCESS(f"Daily counts equal GROUP BY over posts ({scope}).")
            )
            return
        rows = posts.daily_counts_rebuild(member_id=member)
        self.stdout.write(self.style.SUCCESS(f"Rebuilt {rows} daily counts for {scope}."))
