"""A bounded, mixed load (run by `make load`, loadtest/compare.py).

Readers page the timelines; members (each signs up first, which logs them in)
read their home timeline, the timeline and others' pages as themselves, like and
unlike, open their calendar and write posts through the real forms, CSRF token
and all. Every response must be a success: anything else counts as a failure in
the summary. With PAGE_CACHE_STATS set, the counts of the page cache's
``X-Page-Cache`` answers (hit, miss) are written to that file at the end.
"""

import json
import os
import random
import re
import uuid
from collections import Counter

from locust import HttpUser, constant, events, task

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
LIKE = re.compile(r'action="(/posts/\d+/(?:un)?like/)"')
AUTHOR = re.compile(r'class="author" href="(/members/\d+/posts/)"')
PAGE_CACHE = Counter()


@events.request.add_listener
def _count_page_cache(response=None, **kwargs) -> None:
    if response is not None and response.headers is not None:
        PAGE_CACHE[response.headers.get("X-Page-Cache", "none")] += 1


@events.quitting.add_listener
def _write_page_cache(**kwargs) -> None:
    if os.environ.get("PAGE_CACHE_STATS"):
        with open(os.environ["PAGE_CACHE_STATS"], "w") as f:
            json.dump(PAGE_CACHE, f)


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
    def home(self) -> None:
        self.client.get("/home/")

    @task(3)
    def timeline(self) -> None:
        page = self.client.get("/posts/", name="/posts/ (member)")
        authors = AUTHOR.findall(page.text)
        if authors:
            self.client.get(random.choice(authors), name="/members/[id]/posts/ (member)")

    @task(1)
    def like(self) -> None:
        page = self.client.get("/home/")
        actions = LIKE.findall(page.text)
        if actions:
            self.client.post(
                random.choice(actions),
                {"csrfmiddlewaretoken": csrf_token(page.text), "next": "/home/"},
                name="/posts/[id]/like or unlike/",
            )

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
