"""CORS for frontends on other origins, and the editor's page files (no database needed)."""

from __future__ import annotations

import httpx
import pytest

from api.app import create_app
from api.settings import ApiSettings

OTHER = "https://editor.example.com"
PREFLIGHT = {
    "Origin": OTHER,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type",
}


def client(cors_origins: str = "") -> httpx.AsyncClient:
    app = create_app(ApiSettings(tokens="t", cors_origins=cors_origins))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")


async def test_a_preflight_from_a_configured_origin_is_allowed_with_bearer_headers() -> None:
    async with client(cors_origins=f"{OTHER}, https://other.example") as http:
        response = await http.options("/v1/lectures", headers=PREFLIGHT)

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == OTHER
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed
    assert "last-event-id" in allowed
    assert "access-control-allow-credentials" not in response.headers


async def test_a_preflight_from_an_origin_not_listed_gets_no_allowance() -> None:
    async with client(cors_origins=OTHER) as http:
        response = await http.options(
            "/v1/lectures", headers={**PREFLIGHT, "Origin": "https://evil.example"}
        )

    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_no_origin_is_allowed_by_default() -> None:
    async with client() as http:
        preflight = await http.options("/v1/lectures", headers=PREFLIGHT)
        simple = await http.get("/healthz", headers={"Origin": OTHER})

    assert "access-control-allow-origin" not in preflight.headers
    assert preflight.status_code == 405
    assert "access-control-allow-origin" not in simple.headers


@pytest.mark.parametrize("path", ["/", "/lectures/lec_123"])
async def test_the_page_is_served_at_the_root_and_at_a_lectures_deep_link(path: str) -> None:
    async with client() as http:
        response = await http.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert '<script type="module" src="/ui/js/main.js">' in response.text


async def test_the_pages_modules_and_styles_are_served_with_their_types() -> None:
    async with client() as http:
        script = await http.get("/ui/js/main.js")
        style = await http.get("/ui/app.css")

    assert script.headers["content-type"].startswith("text/javascript")
    assert style.headers["content-type"].startswith("text/css")


@pytest.mark.parametrize("name", ["../app.py", "index.html", "js/nothing.js", "%2e%2e/editor.py"])
async def test_nothing_but_the_pages_own_files_is_served_under_ui(name: str) -> None:
    async with client() as http:
        response = await http.get(f"/ui/{name}")

    assert response.status_code == 404
