#!/usr/bin/env python3
"""Vendor GraphiQL's browser assets into the engine, so /graphql/ works with no network.

    python3 scripts/graphiql_assets.py          # install (a no-op when already in place)
    python3 scripts/graphiql_assets.py --check  # exit 1 when missing or not the pinned versions

`make install` (hence `make run` and `make test`) runs it. It fetches the pinned npm
packages with `npm pack` (the npm registry through npm's own client and cache; nothing
else is installed, no dependency tree), checks each tarball against the integrity pinned
below, and copies the few built files GraphiQL needs into
marketplace/api/static/graphiql/vendor/ (ignored by git; `collectstatic` copies them
for production). At run time the page loads them from the engine only: no CDN.

To upgrade: change a version, run `npm view <package>@<version> dist.integrity`, paste it
below, run this script, and run the browser test (tests/test_graphiql_browser.py).

Standard library only (it runs before the virtualenv exists); needs `npm` (Node.js).
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "marketplace" / "api" / "static" / "graphiql" / "vendor"
MANIFEST = TARGET / "versions.json"

# package -> (version, npm integrity of the tarball, {file in the package: name in TARGET})
PACKAGES = {
    "react": ("18.3.1", "sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ==",
              {"umd/react.production.min.js": "react.production.min.js", "LICENSE": "LICENSE.react"}),
    "react-dom": ("18.3.1",
                  "sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw==",
                  {"umd/react-dom.production.min.js": "react-dom.production.min.js", "LICENSE": "LICENSE.react-dom"}),
    "graphiql": ("3.9.0",
                 "sha512-rJYFlHdBbug9+YbFSwRVvgfPjCayC7wHecZkx/qB4XLuQPFQZw/yB9pmHFtOJV6RiNBBHro3u1GdocKa3YcGRA==",
                 {"graphiql.min.js": "graphiql.min.js", "graphiql.min.css": "graphiql.min.css",
                  "LICENSE": "LICENSE.graphiql"}),
}


# Bump when the way files are written changes, so existing copies are redone.
LAYOUT = "2: sourceMappingURL comments removed"
SOURCE_MAP = re.compile(rb"\n?(?://# sourceMappingURL=[^\n]*|/\*# sourceMappingURL=[^\n]*?\*/)\s*$")


def wanted() -> dict:
    return {**{name: version for name, (version, _integrity, _files) in PACKAGES.items()}, "layout": LAYOUT}


def without_source_map(data: bytes) -> bytes:
    """The maps are not shipped: drop the trailing reference to them, which would 404 in
    the browser and make `collectstatic`'s manifest storage fail on the missing file."""
    return SOURCE_MAP.sub(b"\n", data)


def installed() -> bool:
    """True when every file is in place and the manifest names the pinned versions."""
    try:
        manifest = json.loads(MANIFEST.read_text())
    except (OSError, ValueError):
        return False
    files = [TARGET / name for _v, _i, mapping in PACKAGES.values() for name in mapping.values()]
    return manifest == wanted() and all(f.is_file() and f.stat().st_size > 0 for f in files)


def integrity_of(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def install() -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("graphiql_assets: npm is needed to fetch GraphiQL's assets (Debian: apt-get install npm)")
    with tempfile.TemporaryDirectory(prefix="graphiql-assets-") as tmp:
        specs = [f"{name}@{version}" for name, (version, _i, _f) in PACKAGES.items()]
        proc = subprocess.run([npm, "pack", *specs, "--json", "--pack-destination", tmp, "--ignore-scripts"],
                              capture_output=True, text=True, cwd=tmp, timeout=600)
        if proc.returncode != 0:
            raise SystemExit(f"graphiql_assets: npm pack failed:\n{proc.stderr[-3000:]}")
        packed = {entry["name"]: Path(tmp) / entry["filename"] for entry in json.loads(proc.stdout)}
        staging = Path(tmp) / "out"
        staging.mkdir()
        for name, (version, integrity, mapping) in PACKAGES.items():
            tarball = packed[name]
            if integrity_of(tarball) != integrity:
                raise SystemExit(f"graphiql_assets: {name}@{version} does not match its pinned integrity")
            with tarfile.open(tarball) as archive:
                for inner, target in mapping.items():
                    member = archive.extractfile(f"package/{inner}")
                    if member is None:
                        raise SystemExit(f"graphiql_assets: {name}@{version} has no {inner}")
                    data = member.read()
                    if target.endswith((".js", ".css")):
                        data = without_source_map(data)
                    (staging / target).write_bytes(data)
        (staging / "versions.json").write_text(json.dumps(wanted(), indent=2, sort_keys=True) + "\n")
        if TARGET.exists():
            shutil.rmtree(TARGET)
        TARGET.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staging, TARGET)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when missing or outdated")
    args = parser.parse_args(argv)
    if installed():
        print(f"GraphiQL assets in place ({', '.join(f'{n} {v}' for n, (v, _i, _f) in PACKAGES.items())}).")
        return 0
    if args.check:
        print(f"GraphiQL assets missing or outdated in {TARGET}: run python3 scripts/graphiql_assets.py",
              file=sys.stderr)
        return 1
    install()
    print(f"GraphiQL assets installed in {TARGET.relative_to(ROOT)} "
          f"({', '.join(f'{n} {v}' for n, (v, _i, _f) in PACKAGES.items())}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
