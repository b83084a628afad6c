#!/usr/bin/env python
"""Search relevance on the demo marketplace: a labelled set of zh/en queries, asked
through GraphQL as a client would, scored with nDCG@10 and success@1 per backend and
per query class. Prints the figures next to the target of /work/shared/TARGETS.md
(nDCG@10 >= 0.9 on Elasticsearch). tests/test_search_quality.py runs the same set and
asserts a floor per class on both backends.

    eval "$(python3 scripts/localservices.py env)"
    python bench/search_quality.py                    # both backends (database + elasticsearch)
    python bench/search_quality.py --backend database --verbose   # every query, its top 3

What it does: uses the database `<your database>_quality` next to $DATABASE_URL's
(PostgreSQL; created, migrated and loaded with the demo when missing - a SQLite
DATABASE_URL gets a file of its own), rebuilds the search index of each backend
(Elasticsearch under the prefix `quality-<random>-`, deleted afterwards), then runs
the queries with the Django test client against /graphql/.

Labels are rules over the demo catalog (product type, brand, the car model a part is
for, its part numbers; for shops their kind and what they sell), graded 0-2: 2 is
what the query asks for, 1 a related answer (e.g. brake pads for another car when the
query names a car). nDCG@10 uses gains 2^g - 1 against the ideal order of the catalog;
results are product families (the same product from many vendors counts once), so the
ideal is computed per family too. success@1: the first result has the best grade any
product has for that query.
"""
import argparse
import json
import math
import os
import sys
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":  # bench/search.py would shadow the `search` app
    sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
TARGET_NDCG = 0.9  # Elasticsearch, whole set (TARGETS.md)


# -- the labelled set -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Item:
    """What the labels look at, for one visible product or one approved shop."""

    pk: int
    family: str = ""
    type: str = ""
    brand: str = ""
    name_zh: str = ""
    name_en: str = ""
    numbers: frozenset = frozenset()  # normalised part numbers and SKUs
    kind: str = ""  # shops: vendor kind
    sells: frozenset = frozenset()  # shops: product types sold
    services: frozenset = frozenset()  # shops: service product slugs sold


@dataclass(frozen=True)
class Query:
    cls: str
    text: str
    grade: Callable[[Item], int]
    shops: bool = False
    near: tuple | None = None  # (lat, lon) for shops


def typed(*types, related=()):
    """2: a product of the type; 1: a labour service whose name mentions the part."""
    return lambda p: 2 if p.type in types else 1 if (p.type == "service-package"
                                                      and any(w in p.name_zh for w in related)) else 0


def branded(*brands):
    return lambda p: 2 if p.brand in brands else 0


def branded_part(brand, *types):
    """2: the brand's part; 1: the part of another brand."""
    return lambda p: (2 if p.brand == brand else 1) if p.type in types else 0


def for_car(car_zh, *types):
    """2: the part for that car (a part for another car does not fit: 0)."""
    return lambda p: 2 if p.type in types and car_zh in p.name_zh else 0


def numbered(*numbers):
    import re

    wanted = {re.sub(r"[\s\-./_]", "", n).upper() for n in numbers}  # search.text.normalize_code
    return lambda p: 2 if p.numbers & wanted else 0


def shop_kinds(best, good=()):
    return lambda s: 2 if s.kind in best else 1 if s.kind in good else 0


def shop_selling(*types, services=()):
    """2: sells the part; 1: offers a service for it."""
    return lambda s: 2 if s.sells & set(types) else 1 if s.services & set(services) else 0


WANGJING = (39.9965, 116.4701)
YIZHUANG = (39.8058, 116.5062)
TIANANMEN = (39.9087, 116.3975)
TONGZHOU = (39.9021, 116.6561)
HAIDIAN = (39.9593, 116.2980)

QUERIES = [
    # part names, Chinese
    Query("part-zh", "刹车片", typed("brake-pads", related=["刹车片"])),
    Query("part-zh", "机油", typed("engine-oil", related=["机油"])),
    Query("part-zh", "火花塞", typed("spark-plug", related=["火花塞"])),
    Query("part-zh", "雨刮片", typed("wiper-blade")),
    Query("part-zh", "空调滤清器", typed("cabin-filter", related=["空调"])),
    Query("part-zh", "轮胎", typed("tyre", related=["轮胎"])),
    Query("part-zh", "刹车盘", typed("brake-discs")),
    Query("part-zh", "机油滤清器", typed("oil-filter", related=["机滤"])),
    Query("part-zh", "蓄电池", typed("battery", related=["电瓶"])),
    Query("part-zh", "刹车油", typed("brake-fluid", related=["刹车油"])),
    Query("part-zh", "前轮刹车片", lambda p: (2 if "前" in p.name_zh else 1) if p.type == "brake-pads" else 0),
    # part names, English
    Query("part-en", "brake pads", typed("brake-pads", related=["刹车片"])),
    Query("part-en", "engine oil", typed("engine-oil", related=["机油"])),
    Query("part-en", "spark plugs", typed("spark-plug", related=["火花塞"])),
    Query("part-en", "wiper blades", typed("wiper-blade")),
    Query("part-en", "cabin filter", typed("cabin-filter", related=["空调"])),
    Query("part-en", "air filter", typed("air-filter", related=["空气滤"])),
    Query("part-en", "brake discs", typed("brake-discs")),
    Query("part-en", "headlight bulb", typed("bulb")),
    Query("part-en", "battery", typed("battery", related=["电瓶"])),
    Query("part-en", "brake fluid", typed("brake-fluid", related=["刹车油"])),
    # brands (alone and with a part)
    Query("brand", "博世", branded("bosch")),
    Query("brand", "Bosch", branded("bosch")),
    Query("brand", "米其林", branded("michelin")),
    Query("brand", "Michelin", branded("michelin")),
    Query("brand", "美孚", branded("mobil")),
    Query("brand", "Castrol", branded("castrol")),
    Query("brand", "NGK", branded("ngk")),
    Query("brand", "布雷博", branded("brembo")),
    Query("brand", "Bosch brake pads", branded_part("bosch", "brake-pads")),
    Query("brand", "美孚 机油", branded_part("mobil", "engine-oil")),
    # car models (zh, en, pinyin)
    Query("car", "卡罗拉 刹车片", for_car("卡罗拉", "brake-pads")),
    Query("car", "Corolla brake pads", for_car("卡罗拉", "brake-pads")),
    Query("car", "帕萨特 空调滤清器", for_car("帕萨特", "cabin-filter")),
    Query("car", "camry oil filter", for_car("凯美瑞", "oil-filter")),
    Query("car", "速腾 刹车片", for_car("速腾", "brake-pads")),
    Query("car", "sylphy 机滤", for_car("轩逸", "oil-filter")),
    Query("car", "kaluola 空调滤清器", for_car("卡罗拉", "cabin-filter")),
    Query("car", "bora cabin filter", for_car("宝来", "cabin-filter")),
    # part and OE numbers typed with other separators
    Query("number", "0986ab6296", numbered("0 986 AB6 296")),
    Query("number", "an425wk", numbered("AN-425WK")),
    Query("number", "W849/70", numbered("W 849/70")),
    Query("number", "den 284408", numbered("DEN-284408")),
    Query("number", "04152yzza6", numbered("04152-YZZA6")),
    Query("number", "15208 65f0e", numbered("15208-65F0E")),
    Query("number", "15400rta003", numbered("15400-RTA-003")),
    # typos
    Query("typo", "bosh", branded("bosch")),
    Query("typo", "michelen tyre", branded_part("michelin", "tyre")),
    Query("typo", "brmbo brake pads", branded_part("brembo", "brake-pads")),
    Query("typo", "castrl engine oil", branded_part("castrol", "engine-oil")),
    Query("typo", "spark plgus", typed("spark-plug")),
    Query("typo", "batery", typed("battery")),
    Query("typo", "wipper blades", typed("wiper-blade")),
    # synonyms (the shipped glossary)
    Query("synonym", "制动片", typed("brake-pads", related=["刹车片"])),
    Query("synonym", "机滤", typed("oil-filter", related=["机滤"])),
    Query("synonym", "雨刷", typed("wiper-blade")),
    Query("synonym", "电瓶", typed("battery", related=["电瓶"])),
    Query("synonym", "制动液", typed("brake-fluid", related=["刹车油"])),
    Query("synonym", "tires", typed("tyre", related=["轮胎"])),
    Query("synonym", "空滤", typed("air-filter", related=["空气滤"])),
    Query("synonym", "博世 制动盘", branded_part("bosch", "brake-discs")),
    # Chinese without spaces, and mixed languages
    Query("mixed", "博世刹车片", branded_part("bosch", "brake-pads")),
    Query("mixed", "米其林轮胎", branded_part("michelin", "tyre")),
    Query("mixed", "美孚机油", branded_part("mobil", "engine-oil")),
    Query("mixed", "卡罗拉刹车片", for_car("卡罗拉", "brake-pads")),
    Query("mixed", "博世 brake pads", branded_part("bosch", "brake-pads")),
    Query("mixed", "Mobil 机油", branded_part("mobil", "engine-oil")),
    # shops near a point (nearest first: the labels judge which shops come back)
    Query("shops", "汽修", shop_kinds({"repair_shop", "dealer"}), shops=True, near=WANGJING),
    Query("shops", "auto repair", shop_kinds({"repair_shop", "dealer"}), shops=True, near=TIANANMEN),
    Query("shops", "4S店", shop_kinds({"dealer"}), shops=True, near=HAIDIAN),
    Query("shops", "轮胎", shop_selling("tyre", services=("tyre-fitting",)), shops=True, near=YIZHUANG),
    Query("shops", "刹车", shop_selling("brake-pads", "brake-discs", "brake-fluid",
                                       services=("brake-pad-fitting", "brake-fluid-change")), shops=True,
          near=TONGZHOU),
    Query("shops", "保养", lambda s: 2 if s.kind in ("repair_shop", "dealer") else 1 if s.sells & {
        "engine-oil", "oil-filter", "air-filter", "cabin-filter"} else 0, shops=True, near=HAIDIAN),
]
CLASSES = ["part-zh", "part-en", "brand", "car", "number", "typo", "synonym", "mixed", "shops"]

PRODUCTS = """query($q: String, $n: Int) { searchProducts(query: $q, first: $n) { edges { node { id } } } }"""
SHOPS = """query($q: String, $near: GeoPointInput, $n: Int) {
  searchShops(query: $q, near: $near, first: $n) { edges { node { id } } } }"""


# -- the catalog as the labels see it -------------------------------------------------------------
def catalog():
    """({product pk: Item}, {vendor pk: Item}) for visible products and approved shops."""
    from django.apps import apps

    from marketplace.catalog.models import ProductVariant
    from marketplace.catalog.services import visible_products
    from marketplace.vendors.models import Vendor, VendorStatus
    from search.documents import family_key
    from search.text import normalize_code

    numbers = defaultdict(set)
    for product_id, sku in ProductVariant.objects.filter(product__in=visible_products()).values_list(
            "product_id", "sku"):
        numbers[product_id].add(normalize_code(sku))
    if apps.is_installed("plugins.parts_storefront"):
        from plugins.parts_storefront.models import PartNumber

        for product_id, normalized in PartNumber.objects.values_list("variant__product_id", "normalized"):
            numbers[product_id].add(normalized)
    products = {}
    sells, services = defaultdict(set), defaultdict(set)
    for pk, vendor_id, type_slug, brand, zh, en, slug, brand_id in visible_products().values_list(
            "pk", "vendor_id", "product_type__slug", "brand__slug", "name_zh", "name_en", "slug", "brand_id"):
        products[pk] = Item(pk=pk, family=family_key(brand_id, zh), type=type_slug, brand=brand or "", name_zh=zh,
                            name_en=en, numbers=frozenset(numbers[pk]))
        sells[vendor_id].add(type_slug)
        if type_slug == "service-package":
            services[vendor_id].add(slug.removeprefix("dealer-"))
    shops = {v.pk: Item(pk=v.pk, kind=v.kind, name_zh=v.name_zh, name_en=v.name_en,
                        sells=frozenset(sells[v.pk]), services=frozenset(services[v.pk]))
             for v in Vendor.objects.filter(status=VendorStatus.APPROVED)}
    return products, shops


# -- metrics -------------------------------------------------------------------------------------------
def dcg(gains):
    return sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(gains))


@dataclass
class Outcome:
    query: Query
    ndcg: float
    success: bool
    top: list = field(default_factory=list)  # (gain, name) of the first results


def judge(query, result_ids, products, shops):
    items = shops if query.shops else products
    gains = [query.grade(items[pk]) if pk in items else 0 for pk in result_ids[:10]]
    if query.shops:
        ideal = sorted((query.grade(s) for s in shops.values()), reverse=True)[:10]
    else:
        best = {}
        for item in products.values():
            best[item.family] = max(best.get(item.family, 0), query.grade(item))
        ideal = sorted(best.values(), reverse=True)[:10]
    ideal_dcg = dcg(ideal)
    ndcg = dcg(gains) / ideal_dcg if ideal_dcg else (1.0 if not any(gains) else 0.0)
    success = bool(gains) and ideal[0] > 0 and gains[0] == ideal[0]
    top = [(g, items[pk].name_zh if pk in items else f"#{pk}") for g, pk in zip(gains, result_ids[:3])]
    return Outcome(query, ndcg, success, top)


def evaluate(execute, queries=QUERIES):
    """Run every query through `execute(document, variables) -> data` (GraphQL) and judge
    it. Returns [Outcome]."""
    from graphql_relay import from_global_id

    products, shops = catalog()
    outcomes = []
    for query in queries:
        if query.shops:
            variables = {"q": query.text, "n": 10, "near": {"lat": query.near[0], "lon": query.near[1]}}
            edges = execute(SHOPS, variables)["searchShops"]["edges"]
        else:
            edges = execute(PRODUCTS, {"q": query.text, "n": 10})["searchProducts"]["edges"]
        ids = [int(from_global_id(edge["node"]["id"])[1]) for edge in edges]
        outcomes.append(judge(query, ids, products, shops))
    return outcomes


def by_class(outcomes):
    """{class: (queries, mean nDCG@10, success@1)} plus "all"."""
    groups = defaultdict(list)
    for outcome in outcomes:
        groups[outcome.query.cls].append(outcome)
        groups["all"].append(outcome)
    return {name: (len(items), sum(o.ndcg for o in items) / len(items), sum(o.success for o in items) / len(items))
            for name, items in groups.items()}


def report(name, outcomes, verbose=False):
    summary = by_class(outcomes)
    lines = [f"{name}: nDCG@10 {summary['all'][1]:.3f}, success@1 {summary['all'][2]:.3f} "
             f"over {summary['all'][0]} queries"]
    lines.append(f"  {'class':<9} {'n':>3} {'nDCG@10':>8} {'success@1':>10}")
    for cls in CLASSES:
        if cls in summary:
            n, ndcg, success = summary[cls]
            lines.append(f"  {cls:<9} {n:>3} {ndcg:>8.3f} {success:>10.3f}")
    if verbose:
        for o in outcomes:
            top = "; ".join(f"{g} {n[:28]}" for g, n in o.top)
            lines.append(f"    {o.ndcg:5.2f} {'ok ' if o.success else '-- '} [{o.query.cls}] {o.query.text}: {top}")
    return "\n".join(lines)


# -- command line ----------------------------------------------------------------------------------------
def _database_url(base):
    from urllib.parse import urlsplit, urlunsplit

    if base.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(base)
        name = parts.path.lstrip("/") + "_quality"
        import psycopg

        with psycopg.connect(base, autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
                conn.execute(f'CREATE DATABASE "{name}"')
        return urlunsplit(parts._replace(path="/" + name))
    return f"sqlite:///{ROOT / 'var' / 'search_quality.sqlite3'}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["database", "elasticsearch", "both"], default="both")
    parser.add_argument("--verbose", action="store_true", help="every query with its first results")
    args = parser.parse_args()

    database_url = _database_url(os.environ.get("DATABASE_URL", ""))
    (ROOT / "var").mkdir(exist_ok=True)
    os.environ.update(DJANGO_SETTINGS_MODULE="marketplace.settings", DATABASE_URL=database_url, DEBUG="0",
                      LOG_LEVEL="WARNING")
    for name in ("REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CACHE_URL"):
        os.environ.pop(name, None)  # eager tasks, a local cache: nothing leaves this process
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from fixtures import demo
    from search.backends import get_backend

    call_command("migrate", "--noinput", verbosity=0)
    demo.load()
    backends = ["database", "elasticsearch"] if args.backend == "both" else [args.backend]
    if "elasticsearch" in backends and not settings.ELASTICSEARCH_URL:
        sys.exit("ELASTICSEARCH_URL is not set: eval \"$(python3 scripts/localservices.py env)\" first.")
    client = Client()

    def execute(document, variables):
        response = client.post("/graphql/", json.dumps({"query": document, "variables": variables}),
                               content_type="application/json")
        body = response.json()
        if "errors" in body:
            raise RuntimeError(body["errors"])
        return body["data"]

    print(f"search relevance - {len(QUERIES)} labelled queries on the demo marketplace "
          f"({connection.vendor}: {connection.settings_dict['NAME']})")
    results = {}
    for name in backends:
        settings.SEARCH_BACKEND = name
        settings.SEARCH_INDEX_PREFIX = f"quality-{uuid.uuid4().hex[:8]}-"
        backend = get_backend()
        try:
            backend.rebuild()
            outcomes = evaluate(execute)
        finally:
            if name == "elasticsearch":
                for index in backend.all_indices():
                    backend.client.indices.delete(index=index, ignore_unavailable=True)
        results[name] = by_class(outcomes)["all"][1]
        print()
        label = f"{name} ({'PostgreSQL' if connection.vendor == 'postgresql' else connection.vendor})" \
            if name == "database" else name
        print(report(label, outcomes, args.verbose))
    if "elasticsearch" in results:
        ok = results["elasticsearch"] >= TARGET_NDCG
        print(f"\ntarget nDCG@10 >= {TARGET_NDCG} on Elasticsearch: {results['elasticsearch']:.3f} "
              f"{'OK' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
