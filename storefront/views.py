"""The one HTML page of the storefront and the vendor dashboard.

Every route under /shop/ answers the same shell; the client (static/storefront/js/app.js)
reads the path and renders the page from its route table. The shell carries what lets the
first visit finish in two round trips after the HTML: an import map naming every module by
its static URL (hashed names in production, so relative imports never miss the manifest)
and a `modulepreload` link for each, so the browser fetches the whole module graph at once
instead of discovering it import by import; the page's data is then one GraphQL document.

Extensions: any installed app may ship `static/storefront-ext/<app label>/index.js`
exporting `register(registry)`; it is preloaded and registered before the first render
(the way the commerce plugins add their pages; docs/storefront.md).
"""
import json
from functools import lru_cache
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.http import require_GET

JS_ROOT = Path(__file__).resolve().parent / "static" / "storefront" / "js"
EXTENSION_DIR = "storefront-ext"


def _modules():
    """(specifier, static path) of the storefront's own modules and of every extension's."""
    found = [(f"sf/{p.relative_to(JS_ROOT).as_posix()}", f"storefront/js/{p.relative_to(JS_ROOT).as_posix()}")
             for p in sorted(JS_ROOT.rglob("*.js"))]
    extensions = []
    for config in apps.get_app_configs():
        root = Path(config.path) / "static" / EXTENSION_DIR / config.label
        if not (root / "index.js").is_file():
            continue
        for p in sorted(root.rglob("*.js")):
            rel = p.relative_to(root).as_posix()
            found.append((f"ext/{config.label}/{rel}", f"{EXTENSION_DIR}/{config.label}/{rel}"))
        extensions.append(f"ext/{config.label}/index.js")
    return found, extensions


def _assets():
    modules, extensions = _modules()
    imports = {specifier: static(path) for specifier, path in modules}
    return {
        "importmap": json.dumps({"imports": imports}, indent=None).replace("</", "<\\/"),
        "preload": list(imports.values()),
        "config": {"base": "/shop", "graphql": "/graphql/", "extensions": extensions,
                   "debug": bool(settings.DEBUG)},
    }


_cached_assets = lru_cache(maxsize=1)(_assets)


@require_GET
def shell(request):
    """The storefront page for any /shop/... path (the client routes)."""
    assets = _cached_assets() if settings.IS_PRODUCTION else _assets()
    response = render(request, "storefront/shell.html", assets)
    response["Cache-Control"] = "no-cache"
    return response
