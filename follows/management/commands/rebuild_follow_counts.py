"""Recompute every member's follower and following counters from the follows."""

from django.core.management.base import BaseCommand, CommandError

from follows import services as follows


class Command(BaseCommand):
    help = "Recompute the follower and following counters from the follows table."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="compare with GROUP BY over the follows and change nothing; exit 1 if they differ",
        )

    def handle(self, *args, check=False, **options):
        if check:
            differences = follows.follow_counts_differences()
            for member_id, stored, actual in differences[:20]:
                self.stdout.write(f"member {member_id}: stored {stored}, follows {actual}")
            if differences:
                raise CommandError(f"{len(differences)} members' follow counts differ.")
            self.stdout.write(self.style.SUCCESS("Follow counts equal GROUP BY over follows."))
            return
        rows = follows.follow_counts_rebuild()
        self.stdout.write(self.style.SUCCESS(f"Rebuilt the follow counts of {rows} members."))
