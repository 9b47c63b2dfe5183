"""The performance figures and their targets, measured in one run.

Timings on a shared machine are noisy, so every figure is a median, and the
targets that matter most are ratios measured side by side in the same run.
The bench writes and reads through the services where it measures them, and
touches the posts tables directly only to seed and to clean up after itself.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

from django.db import connection, transaction
from django.test import Client
from django.test.utils import override_settings

from config.pagination import Cursor
from lab import index_lab, seeding
from members import services as members
from posts import services
from posts.facades import today
from posts.models import DailyPostCount, Post

BENCH_YEARS = 10  # the bench member's posts spread over the last ten years


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: float | None  # None: not applicable on this database
    unit: str
    target: str = ""
    ok: bool | None = None  # None: no target, shown for contrast


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up: caches and buffer pool, not the first-call cost
    timings = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        timings.append((time.perf_counter() - began) * 1000)
    return statistics.median(timings)


def database_name() -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            cursor.execute("SELECT VERSION()")
        else:
            cursor.execute("SELECT 'SQLite ' || sqlite_version()")
        return cursor.fetchone()[0]


class Bench:
    def __init__(self, *, posts: int, repeat: int, log: Callable[[str], None]):
        self.posts, self.repeat, self.log = posts, repeat, log
        self.figures: list[Figure] = []
        self.member_id: int | None = None
        self.load_member_id: int | None = None  # owns the rows of the LOAD DATA comparison

    def add(self, figure: Figure) -> None:
        self.figures.append(figure)
        value = "n/a" if figure.value is None else f"{figure.value:,.2f} {figure.unit}"
        self.log(f"{figure.label}: {value}")

    def _register(self, nickname: str):
        return members.member_register(
            email=f"{nickname}-{uuid.uuid4().hex[:12]}@bench.example",
            nickname=nickname,
            birthdate=date(1990, 1, 1),
            password=None,
            is_staff=True,
            is_superuser=True,
        )

    def run(self) -> list[Figure]:
        if connection.vendor == "mysql":
            seeding.check_load_data()
        member = self._register("bench")
        self.member_id = member.pk
        client = Client()
        client.force_login(member)
        with override_settings(ALLOWED_HOSTS=["testserver"]):
            self.seed()
            self.calendar()
            self.http(client)
            self.timelines(client)
            self.admin(client)
        return self.figures

    def clean_up(self) -> None:
        """Remove the bench member and everything it wrote, without Django's cascade."""
        for member_id in (self.member_id, self.load_member_id):
            if member_id is None:
                continue
            DailyPostCount.objects.filter(member_id=member_id)._raw_delete(connection.alias)
            Post.objects.filter(member_id=member_id)._raw_delete(connection.alias)
            members.member_delete(member_id=member_id)

    # --- the figures ---------------------------------------------------------

    def seed(self) -> None:
        """The seed rate; on MySQL/MariaDB beside LOAD DATA of the same rows, same table.

        LOAD DATA goes first, so any background work it leaves (flushing its
        pages) slows the seed, not the yardstick.
        """
        self.end = today()
        self.start = self.end - timedelta(days=365 * BENCH_YEARS)
        load_rate = self.load_data() if connection.vendor == "mysql" else None
        self.log(f"seeding {self.posts:,} posts over {self.start}..{self.end} ...")
        began = time.perf_counter()
        seeding.posts_seed(
            member_id=self.member_id, count=self.posts, start=self.start, end=self.end
        )
        rate = self.posts / (time.perf_counter() - began)
        if load_rate is None:
            self.add(
                Figure(
                    "seed_rows_per_s", "seed posts", rate, "rows/s", ">= 150,000", rate >= 150_000
                )
            )
            self.add(Figure("load_data_rows_per_s", "LOAD DATA, same rows", None, "rows/s", "n/a"))
            self.add(Figure("seed_vs_load_data", "seed posts / LOAD DATA", None, "x", "n/a"))
            return
        ratio = rate / load_rate
        self.add(Figure("seed_rows_per_s", "seed posts", rate, "rows/s"))
        self.add(Figure("load_data_rows_per_s", "LOAD DATA, same rows", load_rate, "rows/s"))
        self.add(
            Figure(
                "seed_vs_load_data", "seed posts / LOAD DATA", ratio, "x", ">= 0.9", ratio >= 0.9
            )
        )

    def load_data(self) -> float:
        """Rows/s of one LOAD DATA of the rows the seed writes, for a throw-away member.

        Only the statement and its commit are timed, not writing the file.
        """
        self.load_member_id = self._register("load").pk
        rows = (
            row
            for chunk in seeding.post_chunks(
                member_id=self.load_member_id,
                count=self.posts,
                start=self.start,
                end=self.end,
                seed=1,
                chunk_size=seeding.LOAD_CHUNK_SIZE,
            )
            for row in chunk.rows
        )
        with tempfile.TemporaryDirectory(prefix="bench-load-") as directory:
            path = Path(directory) / "posts.tsv"
            seeding.write_load_file(path, rows)
            self.log(f"LOAD DATA of the same {self.posts:,} posts ...")
            began = time.perf_counter()
            with transaction.atomic():
                seeding.load_file(path, rows=self.posts)
            return self.posts / (time.perf_counter() - began)

    def calendar(self) -> None:
        year_start, year_end = date(self.end.year - 1, 1, 1), date(self.end.year - 1, 12, 31)
        composite = next(p for p in index_lab.PATHS if p.index == index_lab.COMPOSITE_INDEX)
        group_by = index_lab.path_sql(composite)
        for scope, start, end in (
            ("year", year_start, year_end),
            ("all_time", self.start, self.end),
        ):
            daily = median_ms(
                lambda s=start, e=end: services.daily_post_counts(
                    member_id=self.member_id, start=s, end=e
                ),
                self.repeat,
            )
            grouped = median_ms(
                lambda s=start, e=end: index_lab.run_query(group_by, [self.member_id, s, e]),
                max(3, self.repeat // 4),
            )
            ratio = grouped / daily
            label = "one year" if scope == "year" else "all time"
            self.add(
                Figure(
                    f"calendar_{scope}_daily_ms",
                    f"calendar {label}, DailyPostCount",
                    daily,
                    "ms",
                    "<= 5" if scope == "year" else "",
                    daily <= 5 if scope == "year" else None,
                )
            )
            self.add(
                Figure(
                    f"calendar_{scope}_group_by_ms",
                    f"calendar {label}, GROUP BY (composite index)",
                    grouped,
                    "ms",
                )
            )
            self.add(
                Figure(
                    f"calendar_{scope}_speedup",
                    f"calendar {label}, GROUP BY / DailyPostCount",
                    ratio,
                    "x",
                    ">= 20" if scope == "year" else "",
                    ratio >= 20 if scope == "year" else None,
                )
            )

    def _get(self, client: Client, url: str) -> Callable[[], None]:
        def fetch() -> None:
            response = client.get(url, secure=True)  # as behind the TLS proxy
            if response.status_code != 200:
                raise RuntimeError(f"GET {url} answered {response.status_code}")

        return fetch

    def http(self, client: Client) -> None:
        last_year = self.end.year - 1
        pages = [
            (
                "http_calendar_month_ms",
                "calendar page, month grid",
                f"/me/calendar/?month={self.end:%Y-%m}",
            ),
            (
                "http_calendar_year_ms",
                "calendar page, year heat map",
                f"/me/calendar/?year={last_year}",
            ),
            (
                "http_calendar_json_ms",
                "calendar JSON, one year",
                f"/api/me/calendar?start={last_year}-01-01&end={last_year}-12-31",
            ),
        ]
        for key, label, url in pages:
            ms = median_ms(self._get(client, url), self.repeat)
            self.add(Figure(key, label, ms, "ms", "<= 30", ms <= 30))

    def timelines(self, client: Client) -> None:
        """Keyset pages at depth vs page 1 (whole requests), and OFFSET at the same depths.

        The OFFSET contrast times the bare query, so it is set beside the keyset
        query timed the same way, not beside the whole request.
        """
        for scope, member_id, base in (
            ("member", self.member_id, f"/members/{self.member_id}/posts/"),
            ("all", None, "/posts/"),
        ):
            posts = (
                Post.objects.all()
                if member_id is None
                else Post.objects.filter(member_id=member_id)
            )
            newest = posts.order_by("-id").values_list("id", flat=True)
            first = median_ms(self._get(client, base), self.repeat)
            self.add(Figure(f"timeline_{scope}_page1_ms", f"{scope} timeline, page 1", first, "ms"))
            for depth in (1_000, 100_000):
                if depth >= self.posts:
                    continue
                before = newest[depth]  # the cursor a reader holds at that depth
                keyset = median_ms(self._get(client, f"{base}?before={before}"), self.repeat)
                ratio = keyset / first
                self.add(
                    Figure(
                        f"timeline_{scope}_depth_{depth}_ms",
                        f"{scope} timeline, depth {depth:,}",
                        keyset,
                        "ms",
                    )
                )
                self.add(
                    Figure(
                        f"timeline_{scope}_depth_{depth}_ratio",
                        f"{scope} timeline, depth {depth:,} / page 1",
                        ratio,
                        "x",
                        "<= 2",
                        ratio <= 2,
                    )
                )
                query = median_ms(
                    lambda b=before, m=member_id: services.timeline_page(
                        member_id=m, cursor=Cursor(before=b)
                    ),
                    self.repeat,
                )
                offset = median_ms(
                    lambda d=depth, p=posts: list(p.order_by("-id")[d : d + 21]),
                    max(3, self.repeat // 4),
                )
                self.add(
                    Figure(
                        f"timeline_{scope}_keyset_query_{depth}_ms",
                        f"{scope} timeline query, depth {depth:,}, keyset",
                        query,
                        "ms",
                    )
                )
                self.add(
                    Figure(
                        f"timeline_{scope}_offset_query_{depth}_ms",
                        f"{scope} timeline query, depth {depth:,}, OFFSET (contrast)",
                        offset,
                        "ms",
                    )
                )

    def admin(self, client: Client) -> None:
        for model in (
            "members/member",
            "members/nicknamehistory",
            "posts/post",
            "posts/dailypostcount",
        ):
            ms = median_ms(self._get(client, f"/admin/{model}/"), self.repeat)
            key = "admin_" + model.split("/")[1] + "_ms"
            self.add(Figure(key, f"admin changelist {model}", ms, "ms", "<= 300", ms <= 300))


def as_json(figures: list[Figure], *, posts: int) -> dict:
    return {
        "database": database_name(),
        "posts": posts,
        "figures": {f.key: asdict(f) for f in figures},
    }
