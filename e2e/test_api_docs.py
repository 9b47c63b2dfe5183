"""/api/docs in a real browser: Swagger UI from our own static files, under our CSP."""

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_docs_page_lists_every_endpoint(live_server, page: Page, shoot):
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("requestfailed", lambda r: problems.append(r.url))
    page.goto(f"{live_server.url}/api/docs")
    expect(page.locator(".swagger-ui .title")).to_contain_text("SNS")
    expect(page.locator(".opblock-summary-path")).to_have_count(8)
    expect(page.get_by_text("/api/me/calendar")).to_be_visible()
    shoot(page, "26-api-docs")
    assert problems == []  # nothing refused by the CSP, nothing fetched from elsewhere
