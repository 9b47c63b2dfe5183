"""Recompute every post's like count from the like rows."""

from django.core.management.base import BaseCommand, CommandError

from likes import services as likes


class Command(BaseCommand):
    help = "Recompute the like counts (each post's count slots) from the likes table."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="compare with GROUP BY over the likes and change nothing; exit 1 if they differ",
        )

    def handle(self, *args, check=False, **options):
        if check:
            differences = likes.like_counts_differences()
            for post_id, slot, stored, actual in differences[:20]:
                self.stdout.write(f"post {post_id} slot {slot}: stored {stored}, likes {actual}")
            if differences:
                raise CommandError(f"{len(differences)} like count slots differ from the likes.")
            self.stdout.write(self.style.SUCCESS("Like counts equal GROUP BY over likes."))
            return
        rows = likes.like_counts_rebuild()
        self.stdout.write(self.style.SUCCESS(f"Rebuilt {rows} like count slots."))
