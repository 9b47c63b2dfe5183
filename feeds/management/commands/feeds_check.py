"""Say in how many of its author's followers' feeds a post is."""

from django.core.management.base import BaseCommand, CommandError

from feeds import services as feeds


class Command(BaseCommand):
    help = (
        "Count the followers' home feeds that hold post ID; exit 1 when a feed that "
        "should hold it lacks it, a feed holds it twice, or a non-follower's feed holds it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--post", type=int, required=True, help="the post id")

    def handle(self, *args, post, **options):
        reach = feeds.post_reach(post_id=post)
        if reach is None:
            raise CommandError(f"No post with id {post}.")
        self.stdout.write(
            f"post {reach.post_id} by member {reach.author_id}: "
            + (
                f"pulled at read time ({reach.followers:,} followers); in its author's feed: "
                f"{'no' if reach.author_id in reach.missing else 'yes'}"
                if reach.pulled
                else f"in {reach.held:,} of {reach.followers:,} followers' feeds "
                f"({len(reach.missing):,} missing, {len(reach.twice):,} twice, "
                f"{len(reach.strangers):,} in non-followers' feeds, "
                f"{reach.trimmed:,} trimmed past it)"
            )
            + (" - its fan-out has not finished yet" if reach.pending else "")
        )
        if reach.pulled and reach.strangers:
            self.stdout.write(f"in {len(reach.strangers):,} non-followers' feeds")
        if reach.wrong:
            raise CommandError(
                f"{len(reach.missing)} feeds lack the post ({_some(reach.missing)}), "
                f"{len(reach.twice)} hold it twice ({_some(reach.twice)}), "
                f"{len(reach.strangers)} non-followers' feeds hold it ({_some(reach.strangers)})."
            )
        self.stdout.write(self.style.SUCCESS("Every feed that should hold the post holds it once."))


def _some(member_ids: list[int]) -> str:
    return ", ".join(str(m) for m in member_ids[:20]) or "none"
