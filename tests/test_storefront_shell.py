"""The storefront's page (storefront/views.py): every /shop/ path answers the same shell,
which names only the engine's own files, announces every module up front, and maps each
module name to its static URL (so hashed names in production never break an import)."""
import json
import re

import pytest


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/shop/", "/shop/p/acme/pads", "/shop/vendor/VmVuZG9yOjE=/orders", "/shop/cart?x=1"])
def test_every_shop_path_is_the_shell_with_only_local_assets(client, path):
    response = client.get(path)
    assert response.status_code == 200 and response["Cache-Control"] == "no-cache"
    html = response.content.decode()
    imports = json.loads(re.search(r'<script type="importmap">(.*?)</script>', html, re.S).group(1))["imports"]
    assert "sf/app.js" in imports and "sf/pages/shop/home.js" in imports and "sf/pages/vendor/ledger.js" in imports
    preloaded = re.findall(r'<link rel="modulepreload" href="([^"]+)">', html)
    assert sorted(preloaded) == sorted(imports.values())
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert [s for s in sources if re.match(r"^(?:[a-z]+:)?//", s)] == []  # no CDN, no other origin
    for url in {*preloaded, *[s for s in sources if s.startswith("/static/")]}:
        assert client.get(url).status_code == 200, url
    config = json.loads(re.search(r'<script id="sf-config" type="application/json">(.*?)</script>', html, re.S).group(1))
    assert config["graphql"] == "/graphql/" and config["base"] == "/shop"


@pytest.mark.django_db
def test_the_root_leads_to_the_shop_and_other_paths_stay_the_apis(client):
    assert client.get("/").headers["Location"] == "/shop/"
    assert client.get("/health/").status_code == 200
    assert client.post("/graphql/", {"query": "{ __typename }"}, content_type="application/json").json() == {
        "data": {"__typename": "Query"}}


def test_confirmation_links_land_on_the_storefront(settings):
    # The default base of the e-mail links is the engine's own storefront (account/confirm,
    # account/reset-password, vendor/invitation are pages of it).
    from marketplace import settings as defaults

    if "STOREFRONT_URL" not in __import__("os").environ:
        assert defaults.STOREFRONT_URL == "http://127.0.0.1:8000/shop"


@pytest.mark.django_db
def test_an_installed_apps_extension_is_mapped_preloaded_and_registered(client, tmp_path, monkeypatch):
    """A plugin adds pages by shipping static/storefront-ext/<label>/index.js (docs/storefront.md)."""
    from types import SimpleNamespace

    from django.apps import apps

    folder = tmp_path / "static" / "storefront-ext" / "membership"
    folder.mkdir(parents=True)
    (folder / "index.js").write_text('export function register(registry) {}\n')
    (folder / "pages.js").write_text("export const x = 1;\n")
    real = apps.get_app_configs()
    monkeypatch.setattr(apps, "get_app_configs", lambda: [*real, SimpleNamespace(label="membership", path=str(tmp_path))])
    html = client.get("/shop/").content.decode()
    imports = json.loads(re.search(r'<script type="importmap">(.*?)</script>', html, re.S).group(1))["imports"]
    assert imports["ext/membership/index.js"] == "/static/storefront-ext/membership/index.js"
    assert imports["ext/membership/pages.js"] == "/static/storefront-ext/membership/pages.js"
    assert '<link rel="modulepreload" href="/static/storefront-ext/membership/index.js">' in html
    config = json.loads(re.search(r'<script id="sf-config" type="application/json">(.*?)</script>', html, re.S).group(1))
    assert config["extensions"] == ["ext/membership/index.js"]
