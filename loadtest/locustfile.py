"""A bounded, mixed load for `make serve` (run it with `make load`).

Readers page the timelines; members (each signs up first) open their calendar and
write posts through the real form, CSRF token and all. Every response must be a
success: anything else counts as a failure in the summary.
"""

import random
import re
import uuid

from locust import HttpUser, constant, task

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_token(html: str) -> str:
    found = CSRF.search(html)
    if not found:
        raise RuntimeError("no CSRF token on the page")
    return found.group(1)


class Reader(HttpUser):
    weight = 3
    wait_time = constant(0)

    def on_start(self) -> None:
        posts = self.client.get("/api/posts?size=100", name="/api/posts").json()["posts"]
        self.member_ids = sorted({post["member_id"] for post in posts}) or [1]

    @task(3)
    def timeline(self) -> None:
        self.client.get("/posts/")

    @task(3)
    def member_timeline(self) -> None:
        member_id = random.choice(self.member_ids)
        self.client.get(f"/members/{member_id}/posts/", name="/members/[id]/posts/")

    @task(1)
    def older_page(self) -> None:
        page = self.client.get("/api/posts", name="/api/posts").json()
        if page["next"]:
            self.client.get(page["next"], name="/api/posts?before=[id]")


class Member(HttpUser):
    weight = 1
    wait_time = constant(0)

    def on_start(self) -> None:
        page = self.client.get("/signup/")
        password = uuid.uuid4().hex
        self.client.post(
            "/signup/",
            {
                "csrfmiddlewaretoken": csrf_token(page.text),
                "email": f"load-{uuid.uuid4().hex[:12]}@load.example",
                "nickname": "load",
                "birthdate": "1990-01-01",
                "password1": password,
                "password2": password,
            },
        )
        self.written = 0

    @task(3)
    def month(self) -> None:
        self.client.get("/me/calendar/")

    @task(1)
    def year(self) -> None:
        self.client.get("/me/calendar/?year=2025", name="/me/calendar/?year=[y]")

    @task(2)
    def write(self) -> None:
        form = self.client.get("/posts/new/")
        self.written += 1
        self.client.post(
            "/posts/new/",
            {"csrfmiddlewaretoken": csrf_token(form.text), "contents": f"load post {self.written}"},
        )
