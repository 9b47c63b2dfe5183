"""Say in how many of its author's followers' feeds a post is."""

from django.core.management.base import BaseCommand, CommandError

from feeds import services as feeds


class Command(BaseCommand):
    help = (
        "Count the followers' home feeds that hold post ID; exit 1 when a feed that "
        "should hold it lacks it or holds it twice."
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
                f"{reach.trimmed:,} trimmed past it)"
            )
            + (" - its fan-out has not finished yet" if reach.pending else "")
        )
        if reach.missing or reach.twice:
            shown = ", ".join(str(m) for m in reach.missing[:20])
            raise CommandError(
                f"{len(reach.missing)} feeds lack the post ({shown}), "
                f"{len(reach.twice)} hold it twice."
            )
        self.stdout.write(self.style.SUCCESS("Every feed that should hold the post holds it once."))
