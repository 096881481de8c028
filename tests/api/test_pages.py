"""The playground and the API docs: every asset they name is served by the service itself."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']""")
OUTSIDE = re.compile(r"""(?:src|href)=["'](?:https?:)?//""")


def assets(page: str) -> list[str]:
    return [url for url in ASSET.findall(page) if not url.startswith("#")]


def test_home_page_is_the_playground(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for form in ("search", "shape", "plan", "invert"):
        assert f'id="{form}" data-endpoint="/v1/{form}"' in page.text


def test_playground_redirects_home(client: TestClient) -> None:
    response = client.get("/playground", follow_redirects=False)
    assert response.status_code == 308
    assert response.headers["location"] == "/"


@pytest.mark.parametrize("path", ["/", "/docs", "/redoc"])
def test_pages_load_nothing_from_outside(client: TestClient, path: str) -> None:
    page = client.get(path).text
    assert not OUTSIDE.search(page), OUTSIDE.search(page)
    assert "fonts.googleapis" not in page
    named = assets(page)
    assert any(url.endswith(".js") for url in named)
    for url in named:
        response = client.get(url)
        assert response.status_code == 200, url
        assert len(response.content) > 100, url


def test_script_and_styles_make_no_outside_request(client: TestClient) -> None:
    for name in ("app.js", "style.css"):
        text = client.get(f"/static/{name}").text
        assert not re.search(r"https?://", text), name
        assert "@import" not in text


def test_only_the_listed_assets_are_served(client: TestClient) -> None:
    assert client.get("/static/app.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/static/favicon.svg").headers["content-type"] == "image/svg+xml"
    assert client.get("/static/..%2Fmain.py").status_code == 404
    assert client.get("/static/playground.html").status_code == 404


def test_pages_are_not_in_the_api_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not {"/", "/playground", "/static/{name}", "/docs", "/redoc"} & set(paths)
