"""``/``, ``/docs`` and ``/redoc`` are served from the installed package, with no CDN (issue 18,
stumble 1); the Chromium test (``test_browser.py``) shows they render offline."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

#: Any absolute URL in a ``src`` or ``href`` attribute, or a script's ``url:``.
EXTERNAL = re.compile(r"""(?:src|href)=["']?(?:https?:)?//|url:\s*['"]https?://""")


class TestIndex:
    @pytest.mark.smoke
    def test_root_is_an_index_not_a_404(self, client: TestClient) -> None:
        response = client.get("/")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        page = response.text
        for link in ('href="/docs"', 'href="/redoc"', 'href="/openapi.json"'):
            assert link in page
        # The first steps link to their operations in Swagger UI.
        assert re.search(r'href="/docs#/[^"]+/create_workspace"', page)
        assert "POST /v1/sandbox/workspaces" in page
        # The reference servers and where their docs are.
        assert "portal reference amsi" in page
        assert "/_ref/docs" in page

    def test_index_needs_nothing_from_outside(self, client: TestClient) -> None:
        page = client.get("/").text
        external = [m for m in re.findall(r'(?:src|href)="([^"]+)"', page) if "//" in m]
        assert all(url.startswith("http://127.0.0.1:") for url in external), external


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
class TestDocPages:
    def test_assets_are_local(self, client: TestClient, path: str) -> None:
        response = client.get(path)
        assert response.status_code == 200
        assert "/docs-assets/" in response.text
        assert not EXTERNAL.search(response.text), response.text
        assert "cdn." not in response.text
        assert "fonts.googleapis" not in response.text

    def test_every_asset_the_page_names_is_served(self, client: TestClient, path: str) -> None:
        page = client.get(path).text
        assets = re.findall(r"""(?:src|href)=["']?(/docs-assets/[^"' >]+)""", page)
        assert assets
        for asset in assets:
            response = client.get(asset)
            assert response.status_code == 200, asset
            assert len(response.content) > 1000


class TestSwaggerSettings:
    def test_no_online_validator_and_the_spec_is_ours(self, client: TestClient) -> None:
        page = client.get("/docs").text
        assert '"validatorUrl": null' in page
        assert "url: '/openapi.json'" in page

    def test_oauth2_redirect_page_is_served(self, client: TestClient) -> None:
        assert client.get("/docs/oauth2-redirect").status_code == 200

    def test_docs_pages_are_not_operations(self, client: TestClient) -> None:
        paths = client.get("/openapi.json").json()["paths"]
        assert not {"/", "/docs", "/redoc"} & set(paths)
