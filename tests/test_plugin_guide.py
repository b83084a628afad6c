"""docs/plugins.md's worked example is a plugin that works: this test writes the wishlist
plugin from the guide's own code blocks, installs it through its entry point (a dist-info
beside it, exactly what `pip install` leaves), runs `makemigrations` and `migrate` on a
fresh SQLite database in a separate process, and uses it through the API there."""
import json
import os
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "plugins.md"

SCENARIO = textwrap.dedent('''
    import json
    from django.test import Client
    from marketplace.plugins.testing import GraphQLClient, gid, make_product, make_user, make_vendor, taxonomy

    tax = taxonomy()
    vendor = make_vendor("guide-shop")
    product = make_product(vendor, "guide-pads", tax)
    draft = make_product(vendor, "guide-draft", tax, status="draft")
    make_user("wisher@example.com")
    api = GraphQLClient(Client())
    api.login("wisher@example.com")
    added = api.mutate('mutation($p: ID!) { wishlistAdd(productId: $p) { item { id product { slug } } '
                       'errors { field code } } }', {"p": gid("Product", product.pk)})
    refused = api.mutate('mutation($p: ID!) { wishlistAdd(productId: $p) { errors { field code } } }',
                         {"p": gid("Product", draft.pk)})
    mine = api.data("{ myWishlist { id product { slug } } }")
    node = api.data('query($id: ID!) { node(id: $id) { ... on WishlistItem { product { slug } } } }',
                    {"id": added["item"]["id"]})
    anonymous = GraphQLClient(Client()).mutate('mutation($id: ID!) { wishlistRemove(id: $id) { ok errors { code } } }',
                                               {"id": added["item"]["id"]})
    removed = api.mutate('mutation($id: ID!) { wishlistRemove(id: $id) { ok errors { code } } }',
                         {"id": added["item"]["id"]})
    events = [e["name"] for e in api.data("{ eventTypes { name } }")["eventTypes"]]
    print("RESULT " + json.dumps({"added": added, "refused": refused, "mine": mine, "node": node,
                                  "anonymous": anonymous, "removed": removed,
                                  "event": "wishlist_item_added" in events}))
''')


def guide_files():
    """{relative path: text} of every code block of the worked example that names its file."""
    text = GUIDE.read_text()
    section = text.split("## Worked example: a wishlist plugin", 1)[1].split("\n## ", 1)[0]
    files = {}
    for block in re.findall(r"```(?:python|toml)\n(.*?)```", section, re.S):
        first, _, body = block.partition("\n")
        match = re.match(r"#\s*(wishlist-plugin/\S+)", first)
        if match:
            files[match.group(1)] = body
    return files


def test_the_guide_names_every_file_of_the_example():
    assert set(guide_files()) == {
        "wishlist-plugin/pyproject.toml", "wishlist-plugin/wishlist/__init__.py", "wishlist-plugin/wishlist/apps.py",
        "wishlist-plugin/wishlist/models.py", "wishlist-plugin/wishlist/events.py",
        "wishlist-plugin/wishlist/services.py", "wishlist-plugin/wishlist/schema.py",
        "wishlist-plugin/wishlist/hooks.py", "wishlist-plugin/wishlist/migrations/__init__.py"}


@pytest.mark.integration
def test_the_guide_example_plugin_builds_installs_and_works(tmp_path):
    for relative, body in guide_files().items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    project = tomllib.loads((tmp_path / "wishlist-plugin" / "pyproject.toml").read_text())["project"]
    dist_info = tmp_path / "wishlist-plugin" / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n")
    points = project["entry-points"]["marketplace.plugins"]
    (dist_info / "entry_points.txt").write_text("[marketplace.plugins]\n" + "".join(
        f"{name} = {value}\n" for name, value in points.items()))
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "REDIS_URL", "ELASTICSEARCH_URL", "SEARCH_BACKEND", "CELERY_BROKER_URL",
                          "CELERY_RESULT_BACKEND", "CACHE_URL")}
    env.update(PYTHONPATH=f"{tmp_path / 'wishlist-plugin'}{os.pathsep}{ROOT}", DJANGO_SETTINGS_MODULE="marketplace.settings",
               DATABASE_URL=f"sqlite:///{tmp_path / 'guide.sqlite3'}", MARKETPLACE_ENV="development")

    def manage(*args, stdin=None):
        done = subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, input=stdin, timeout=300)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return done.stdout

    assert "Create model WishlistItem" in manage("makemigrations", "wishlist")
    assert (tmp_path / "wishlist-plugin" / "wishlist" / "migrations" / "0001_initial.py").exists()
    manage("migrate", "--noinput")
    out = manage("shell", stdin=SCENARIO)
    result = json.loads(out.split("RESULT ", 1)[1])
    assert result["added"]["errors"] == [] and result["added"]["item"]["product"] == {"slug": "guide-pads"}
    assert result["refused"]["errors"] == [{"field": "productId", "code": "NOT_FOUND"}]
    assert result["mine"] == {"myWishlist": [{"id": result["added"]["item"]["id"], "product": {"slug": "guide-pads"}}]}
    assert result["node"] == {"node": {"product": {"slug": "guide-pads"}}}
    assert result["anonymous"]["errors"] == [{"code": "NOT_AUTHENTICATED"}]
    assert result["removed"] == {"ok": True, "errors": []}
    assert result["event"] is True
