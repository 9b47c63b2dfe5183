"""The API's OpenAPI document: every /api/ endpoint, its parameters with their bounds and
every answer with its body, generated from the code that answers."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from core.pagination import MAX_ID, MAX_SIZE
from posts.forms import MAX_RANGE_DAYS

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client):
    response = client.get("/api/schema")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def api_routes(patterns=None, prefix="") -> set[str]:
    """Every URL the project answers under /api/, as the document spells paths."""
    found = set()
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found |= api_routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/"):
            found.add("/" + route.replace("<int:", "{").replace(">", "}"))
    return found - {"/api/", "/api/schema", "/api/docs"}  # the root is a 404 (DEBUG: the docs)


def test_every_api_endpoint_is_in_the_document(schema):
    assert set(schema["paths"]) == api_routes()
    assert len(schema["paths"]) == 8
    assert schema["openapi"].startswith("3.")


def test_every_operation_documents_each_answer_with_a_json_body(schema):
    for path, operations in schema["paths"].items():
        assert set(operations) == {"get"}, path  # HEAD is answered, not listed twice
        responses = operations["get"]["responses"]
        expected = {"200", "400", "503"}
        if "{" in path:
            expected.add("404")
        if path.startswith("/api/me/"):
            expected.add("401")
        assert set(responses) == expected, path
        for status, answer in responses.items():
            ref = answer["content"]["application/json"]["schema"]["$ref"]
            if status != "200":
                assert ref == "#/components/schemas/Error", (path, status)


def test_private_endpoints_need_the_session_cookie(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes == {"SessionCookie": {"type": "apiKey", "in": "cookie", "name": "sessionid"}}
    for path, operations in schema["paths"].items():
        secured = operations["get"].get("security") == [{"SessionCookie": []}]
        assert secured == path.startswith("/api/me/"), path


def parameters(schema, path) -> dict:
    return {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}


def test_cursors_have_their_bounds(schema):
    cursor = parameters(schema, "/api/posts")
    assert cursor["size"]["schema"] == {"type": "integer", "minimum": 1, "maximum": MAX_SIZE}
    assert cursor["before"]["schema"] == {"type": "integer", "minimum": 1, "maximum": MAX_ID}
    assert cursor["after"]["schema"] == {"type": "integer", "minimum": 0, "maximum": MAX_ID}
    assert not any(p["required"] for p in cursor.values())
    member = parameters(schema, "/api/members/{member_id}/followers")
    assert member["member_id"]["in"] == "path"
    assert (member["member_id"]["schema"]["minimum"], member["member_id"]["schema"]["maximum"]) == (
        1,
        MAX_ID,
    )


def test_calendar_dates(schema):
    dates = parameters(schema, "/api/me/calendar")
    for name in ("start", "end"):
        assert dates[name]["schema"] == {"type": "string", "format": "date"}
        assert dates[name]["required"] is True
    assert str(MAX_RANGE_DAYS) in schema["paths"]["/api/me/calendar"]["get"]["description"]


def test_bodies_name_every_field_the_json_has(schema):
    components = schema["components"]["schemas"]
    assert list(components["PostOut"]["properties"]) == [
        "id",
        "member_id",
        "nickname",
        "contents",
        "created_at",
        "likes",
    ]
    assert list(components["TimelineOut"]["properties"]) == ["posts", "next", "previous"]
    assert list(components["MemberOut"]["properties"]) == [
        "id",
        "nickname",
        "followers",
        "following",
        "posts",
    ]
    assert list(components["CalendarOut"]["properties"]) == [
        "member_id",
        "nickname",
        "start",
        "end",
        "days",
    ]
    assert components["Error"]["required"] == ["error"]


def test_the_docs_page_uses_our_own_static_files(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert "/static/ninja/swagger-ui-bundle.js" in response.text
    assert "cdn" not in response.text.lower()
    assert "<script>" not in response.text  # the CSP allows no inline script


@pytest.mark.parametrize("url", ["/api/posts/abc", "/api/nothing", "/api/members/1/nothing"])
def test_a_url_that_matches_nothing_is_a_404_json(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert response.json() == {"error": "Not found."}


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("/api/posts/0", "post_id: Ensure this value is greater than or equal to 1."),
        (f"/api/members/{MAX_ID + 1}", "member_id: Ensure this value is less than or equal to"),
    ],
)
def test_an_id_out_of_bounds_is_a_400_json(client, url, error):
    response = client.get(url)
    assert response.status_code == 400
    assert response.json()["error"].startswith(error)


def test_errors_are_in_the_visitors_language(client):
    response = client.get("/api/posts/0", HTTP_ACCEPT_LANGUAGE="ko")
    assert "post_id" in response.json()["error"]
    assert "Ensure" not in response.json()["error"]
    assert client.get("/api/me/home", HTTP_ACCEPT_LANGUAGE="ko").json()["error"] != (
        "Authentication required: log in first."
    )


def test_korean_text_is_utf8_not_escaped(client):
    from social.tests.mothers import a_member, publish

    publish(a_member(nickname="김민수"), "안녕하세요")
    response = client.get("/api/posts")
    assert "안녕하세요".encode() in response.content
    assert b"\\u" not in response.content
