"""What each part of a request costs, in-process (lab/request_profile.py)."""

from django.core.management.base import BaseCommand, CommandError

from lab import request_profile


class Command(BaseCommand):
    help = (
        "Ask each page many times through the site's WSGI handler, as a visitor and as "
        "members of the throughput run, and print the median time of the whole request, "
        "of the middleware, of the view, of its queries and of its template."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=200, help="requests per page")

    def handle(self, *args, count, **options):
        if count <= 0:
            raise CommandError("--count must be positive.")
        try:
            rows = request_profile.profile(count=count)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        heads = ("total", "stack", "view", "db", "render", "queries")
        self.stdout.write(f"{'request (ms, median)':<34} " + " ".join(f"{h:>7}" for h in heads))
        for row in rows:
            who = "member" if row.member else "visitor"
            self.stdout.write(
                f"{row.label + ' (' + who + ')':<34} {row.total_ms:>7.2f} {row.stack_ms:>7.2f} "
                f"{row.view_ms:>7.2f} {row.db_ms:>7.2f} {row.render_ms:>7.2f} {row.queries:>7.1f}"
            )
