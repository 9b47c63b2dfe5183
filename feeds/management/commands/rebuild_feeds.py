"""Recompute home feeds from the posts and the follows."""

from django.core.management.base import BaseCommand, CommandError

from feeds import services as feeds
from members import services as members


class Command(BaseCommand):
    help = (
        "Recompute each member's home feed (their posts and those of the pushed authors "
        "they follow, the newest FEED_MAX_ENTRIES) from the sources; all members, or one."
    )

    def add_arguments(self, parser):
        parser.add_argument("--member", type=int, help="only this member id")
        parser.add_argument(
            "--check",
            action="store_true",
            help="compare with what the feeds should hold and change nothing; exit 1 when a "
            "feed lacks a post, holds one of an author its owner does not follow, or one twice",
        )

    def handle(self, *args, member=None, check=False, **options):
        if member is not None and members.member_public(member_id=member) is None:
            raise CommandError(f"No member with id {member}.")
        member_ids = [member] if member is not None else members.member_ids_all()
        visited = differing = 0
        for member_id in member_ids:
            visited += 1
            if check:
                wrong = feeds.feed_differences(member_id=member_id)
                if wrong:
                    differing += 1
                    if differing <= 20:
                        self.stdout.write(
                            f"member {member_id}: {len(wrong.missing)} missing, "
                            f"{len(wrong.extra)} extra (not followed), {len(wrong.twice)} twice"
                        )
            else:
                feeds.feed_rebuild(member_id=member_id)
        if check:
            if differing:
                raise CommandError(f"{differing} of {visited} feeds differ from their sources.")
            self.stdout.write(self.style.SUCCESS(f"All {visited} feeds match their sources."))
        else:
            self.stdout.write(self.style.SUCCESS(f"Rebuilt {visited} feeds."))
