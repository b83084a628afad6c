#!/usr/bin/env python
"""Benchmark: search at scale, on both backends. Bulk indexing throughput into
Elasticsearch and the latency of a mixed search workload (text + filters + facets)
through GraphQL, served by gunicorn from PostgreSQL with production-like settings - then
the same workload on the database backend (PostgreSQL full-text rows). Prints figures
next to the targets of /work/shared/TARGETS.md. Not a test: nothing here fails a build.

    eval "$(python3 scripts/localservices.py env)"
    python bench/search.py                  # both backends; a few minutes when the data exist
    python bench/search.py --backend database --database marketplace_7
    python bench/search.py --requests 1000 --keep-index
    python bench/search.py --no-request-cache   # Elasticsearch: facets counted afresh for every search

What it does, all on 127.0.0.1, every loop bounded, gunicorn killed at the end:
1. uses the database --database (default `marketplace_bench`: 100k products, made by
   bench/listing.py and `manage.py generate_products`) when it has products; otherwise
   creates `marketplace_search_bench` and bulk-creates --fallback-products products itself;
2. Elasticsearch: rebuilds the product and shop indices under the prefix `bench-search-`
   with the backend's `rebuild` (in-process) and reports documents per second, plus how
   fast the documents alone are built (database + Python, no Elasticsearch);
3. database backend: (re)builds its rows when they are missing or --rebuild-rows
   (rows per second); either way its text tables end in locality order with fresh
   statistics, as the rebuild and the nightly `search_index optimize` leave them;
4. for each backend, starts gunicorn (2 gthread workers, DEBUG off, persistent DB
   connections) and sends a seeded mix of `searchProducts` queries - Chinese and English
   text, typos, part numbers, filters, sorts, always facets and price ranges - from one
   keep-alive client: warm-up, then N requests -> p50/p95/p99, overall and per kind;
5. deletes its Elasticsearch indices (exact names) unless --keep-index.
"""
import argparse
import http.client
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from listing import Server, log, percentile, pg_connect, with_database  # noqa: E402  (shared bench helpers)

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "bench-search-"
REDIS_URL = ""
TARGETS = {"indexing": ">= 3,000 products/s", "elasticsearch": 30, "database": 100}  # p95 ms

SEARCH = """
query Search($q: String, $f: SearchFilterInput, $s: ProductSearchSort, $n: Int) {
  searchProducts(query: $q, filter: $f, sortBy: $s, first: $n) {
    totalCount
    edges { node { id nameZh nameEn minPrice vendor { nameZh } brand { nameEn } } highlights { field snippets } }
    facets { name values { value label count } }
    priceRanges { min max count }
    unsupported { capability }
  }
}"""


def visible_count(url):
    try:
        with pg_connect(url) as conn:
            return conn.execute(
                "SELECT count(*) FROM catalog_product p JOIN vendors_vendor v ON v.id = p.vendor_id "
                "WHERE p.status = 'published' AND v.status = 'approved'").fetchone()[0]
    except Exception:
        return 0


def bench_env(database_url, elasticsearch_url, backend="elasticsearch"):
    env = dict(os.environ)
    env.pop("MARKETPLACE_ENV", None)
    for name in ("REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CACHE_URL"):
        env.pop(name, None)  # no messages into the shared Redis; the cache is per process
    env.update(
        DJANGO_SETTINGS_MODULE="marketplace.settings", DATABASE_URL=database_url, DEBUG="0",
        SECRET_KEY="bench-secret-key-not-for-production-0123456789abcdef", DATABASE_CONN_MAX_AGE="60",
        LOG_LEVEL="WARNING", GRAPHQL_GRAPHIQL="0", SEARCH_BACKEND=backend,
        ELASTICSEARCH_URL=elasticsearch_url, SEARCH_INDEX_PREFIX=PREFIX,
    )
    return env


# -- fallback data ------------------------------------------------------------------------------
BRANDS = [("博世", "Bosch", "bosch"), ("美孚", "Mobil", "mobil"), ("壳牌", "Shell", "shell"),
          ("米其林", "Michelin", "michelin"), ("布雷博", "Brembo", "brembo"), ("电装", "Denso", "denso"),
          ("曼牌", "Mann", "mann"), ("瓦尔塔", "Varta", "varta")]
KINDS = [("刹车片", "brake pads", "pads"), ("机油", "engine oil", "oil"), ("火花塞", "spark plug", "plugs"),
         ("机油滤清器", "oil filter", "filters"), ("轮胎", "tyre", "tyres"), ("蓄电池", "battery", "batteries")]


def generate(count, seed=7):
    """Bulk-create `count` published products (2 variants each) for the fallback database."""
    from django.db import transaction

    from marketplace.accounts.models import User
    from marketplace.catalog.models import Brand, Category, Product, ProductType, ProductVariant
    from marketplace.vendors.models import Vendor

    rng = random.Random(seed)
    with transaction.atomic():
        owner, _ = User.objects.get_or_create(email="bench-owner@example.com")
        root, _ = Category.objects.get_or_create(slug="bench-parts", defaults={"name_zh": "配件", "name_en": "Parts"})
        categories = [Category.objects.get_or_create(slug=f"bench-{slug}", defaults={
            "name_zh": zh, "name_en": en, "parent": root})[0] for zh, en, slug in KINDS]
        brands = [Brand.objects.get_or_create(slug=slug, defaults={"name_zh": zh, "name_en": en})[0]
                  for zh, en, slug in BRANDS]
        ptype, _ = ProductType.objects.get_or_create(slug="bench-part", defaults={"name_zh": "配件", "name_en": "Part"})
        vendors = [Vendor.objects.get_or_create(slug=f"bench-v{n:02d}", defaults={
            "kind": ["parts_vendor", "repair_shop", "dealer"][n % 3], "status": "approved",
            "name_zh": f"测试汽配{n}", "name_en": f"Bench Parts {n}", "applied_by": owner,
            "latitude": 39.9 + rng.uniform(-0.2, 0.2), "longitude": 116.4 + rng.uniform(-0.2, 0.2)})[0]
            for n in range(30)]
    existing = Product.objects.filter(slug__startswith="bench-p").count()
    for start in range(existing, count, 5000):
        with transaction.atomic():
            products = []
            for i in range(start, min(count, start + 5000)):
                kind = rng.randrange(len(KINDS))
                brand = rng.choice(brands)
                zh, en, _ = KINDS[kind]
                price = round(rng.uniform(20, 2500), 2)
                products.append(Product(
                    vendor=vendors[i % len(vendors)], product_type=ptype, category=categories[kind], brand=brand,
                    name_zh=f"{brand.name_zh}{zh} {rng.choice(['前', '后', '高性能', '长效', '原厂'])} {i}",
                    name_en=f"{brand.name_en} {en} {rng.choice(['front', 'rear', 'performance', 'long-life'])} {i}",
                    slug=f"bench-p{i}", status="published", min_price=price, in_stock=rng.random() > 0.1,
                    sales_count=rng.randrange(0, 5000)))
            Product.objects.bulk_create(products)
            ProductVariant.objects.bulk_create([
                ProductVariant(product=p, vendor_id=p.vendor_id, sku=f"BX-{p.pk}-{n}",
                               list_price=p.min_price, position=n) for p in products for n in range(2)])
        log(f"  generated {min(count, start + 5000):,}/{count:,}")


def prepare(args, base_url):
    bench_url = with_database(base_url, args.database)
    if visible_count(bench_url) > 0:
        return bench_url, False
    fallback = with_database(base_url, args.fallback_database)
    with pg_connect(base_url) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.fallback_database]).fetchone() is None:
            log(f"{args.database} has no products: creating {args.fallback_database}")
            conn.execute(f'CREATE DATABASE "{args.fallback_database}"')
    return fallback, True


# -- measuring --------------------------------------------------------------------------------
def workload(rng, count):
    """A seeded mix of realistic searches over the catalog's own vocabulary."""
    from marketplace.catalog.models import Brand, Category, ProductVariant
    from marketplace.catalog.services import visible_products
    from marketplace.vendors.models import VendorKind
    from graphql_relay import to_global_id

    categories = list(Category.objects.all())
    brands = list(Brand.objects.all())
    sample_ids = rng.sample(sorted(visible_products().values_list("pk", flat=True)), 200)
    skus = list(ProductVariant.objects.filter(product_id__in=sample_ids).values_list("sku", flat=True)[:100])
    names = list(visible_products().filter(pk__in=sample_ids).values_list("name_zh", "name_en"))
    zh_words = [c.name_zh for c in categories] + [b.name_zh for b in brands]
    zh_words += [w for zh, _ in names for w in zh.replace("【", " ").replace("】", " ").split() if 2 <= len(w) <= 6]
    en_words = [c.name_en for c in categories if c.name_en] + [b.name_en for b in brands if b.name_en]
    en_words += [w.strip(",()[]") for _, en in names for w in en.split() if w.isalpha() and len(w) > 3]

    def typo(word):
        if len(word) < 5:
            return word
        i = rng.randrange(1, len(word) - 1)
        return word[:i] + word[i + 1:]

    def filter_():
        choice = rng.random()
        if choice < 0.3:
            return {"categories": [to_global_id("Category", rng.choice(categories).pk)]}
        if choice < 0.5:
            return {"brands": [to_global_id("Brand", rng.choice(brands).pk)], "inStock": True}
        if choice < 0.7:
            low = rng.choice([0, 100, 300])
            return {"price": {"min": str(low), "max": str(low + rng.choice([100, 200, 700]))}}
        if choice < 0.8:
            return {"vendorKind": rng.choice(list(VendorKind)).name}
        return None

    kinds = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.35:
            kind, variables = "zh text", {"q": rng.choice(zh_words)}
        elif roll < 0.55:
            kind, variables = "en text", {"q": " ".join(rng.sample(en_words, k=rng.choice([1, 2]))).lower()}
        elif roll < 0.65:
            kind, variables = "en typo", {"q": typo(rng.choice(en_words)).lower()}
        elif roll < 0.75 and skus:
            kind, variables = "part no.", {"q": rng.choice(skus).lower().replace("-", " ")}
        else:
            kind, variables = "browse", {}
        variables["f"] = filter_()
        variables["s"] = rng.choice(["RELEVANCE", "RELEVANCE", "PRICE_ASC", "SALES"])
        variables["n"] = 20
        kinds.append((kind, variables))
    return kinds


def post(conn, payload):
    conn.request("POST", "/graphql/", payload, {"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        raise RuntimeError(f"HTTP {response.status}: {data[:500]!r}")
    parsed = json.loads(data)
    if "errors" in parsed:
        raise RuntimeError(f"GraphQL errors: {parsed['errors'][:2]}")
    return parsed["data"]["searchProducts"]


def measure(port, queries, warmup, clear_cache=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    timings, hits = {}, []
    try:
        for index, (kind, variables) in enumerate(queries):
            payload = json.dumps({"query": SEARCH, "variables": variables})
            if clear_cache:
                clear_cache()  # not timed: every facet count computed afresh
            started = time.perf_counter()
            result = post(conn, payload)
            elapsed = (time.perf_counter() - started) * 1000
            if index >= warmup:
                timings.setdefault(kind, []).append(elapsed)
                hits.append(result["totalCount"])
    finally:
        conn.close()
    return timings, hits


def run_workload(env, queries, args, clear=None):
    # make serve's web process runs in production mode, which wants Redis (its cache) as production has it.
    # A cache of its own for every run: counts a previous run cached are not this run's.
    server_env = dict(env, REDIS_URL=REDIS_URL, CACHE_KEY_PREFIX=f"bench-search-{os.getpid()}-{time.time_ns()}")
    server = Server(server_env, 2, 4, "gthread")
    try:
        server.wait()
        log(f"measuring {args.requests} searches (+{args.warmup} warm-up) on {env['SEARCH_BACKEND']}, "
            "one keep-alive client")
        load_start = os.getloadavg()[0]
        timings, hits = measure(server.port, queries, args.warmup, clear)
        load_end = os.getloadavg()[0]
    finally:
        server.stop()
    return {"timings": timings, "hits": hits, "load": (load_start, load_end), "server": server.describe}


def latency_lines(name, run, queries, args, target):
    every = [t for values in run["timings"].values() for t in values]
    p95 = percentile(every, 95)
    lines = [
        f"{name}: {len(every)} requests ({len({json.dumps(v, sort_keys=True) for _, v in queries[args.warmup:]})} "
        f"distinct), median {statistics.median(run['hits']):,.0f} hits each; load {run['load'][0]:.2f} / "
        f"{run['load'][1]:.2f}; p50 {percentile(every, 50):.1f} ms, p95 {p95:.1f} ms, p99 {percentile(every, 99):.1f} "
        f"ms, max {max(every):.1f} ms (target p95 <= {target} ms: {'OK' if p95 <= target else 'MISSED'})",
        f"  {'kind':<10} {'n':>5} {'p50 ms':>8} {'p95 ms':>8}",
    ]
    for kind in sorted(run["timings"]):
        values = run["timings"][kind]
        lines.append(f"  {kind:<10} {len(values):>5} {percentile(values, 50):>8.1f} {percentile(values, 95):>8.1f}")
    return lines


def main():
    global PREFIX, REDIS_URL
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["elasticsearch", "database", "both"], default="both")
    parser.add_argument("--database", default="marketplace_bench", help="reused when it has products")
    parser.add_argument("--fallback-database", default="marketplace_search_bench")
    parser.add_argument("--fallback-products", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--chunk-size", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep-index", action="store_true", help="leave the bench indices in place")
    parser.add_argument("--rebuild-rows", action="store_true", help="database backend: rebuild its rows anyway")
    parser.add_argument("--json", help="also write the Elasticsearch figures to this file (bench/all.py reads it)")
    parser.add_argument("--prefix", default=PREFIX, help="index name prefix (own one on a shared search node)")
    parser.add_argument("--no-request-cache", action="store_true",
                        help="clear Elasticsearch's request cache before every search (facets counted afresh)")
    args = parser.parse_args()
    PREFIX = args.prefix
    REDIS_URL = os.environ.get("REDIS_URL", "")  # for the server (production mode wants it); popped below
    backends = ["elasticsearch", "database"] if args.backend == "both" else [args.backend]

    base = os.environ.get("DATABASE_URL", "")
    es_url = os.environ.get("ELASTICSEARCH_URL", "")
    if not base.startswith(("postgres://", "postgresql://")) or ("elasticsearch" in backends and not es_url):
        sys.exit('Needs PostgreSQL (and Elasticsearch): eval "$(python3 scripts/localservices.py env)" first.')
    database_url, fallback = prepare(args, base)
    env = bench_env(database_url, es_url, backends[0])
    os.environ.update(env)
    for name in ("REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CACHE_URL"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", "--noinput", verbosity=0)
    if fallback:
        generate(args.fallback_products, seed=args.seed)
    from marketplace.catalog.services import visible_products
    from search.backends import get_backend

    meta = {"database": urlsplit(database_url).path.lstrip("/"), "products": visible_products().count(),
            "pg": connection.pg_version}
    rng = random.Random(args.seed)
    queries = workload(rng, args.warmup + args.requests)
    lines = []

    if "elasticsearch" in backends:
        from search.documents import CategoryPaths, product_documents

        settings.SEARCH_BACKEND = "elasticsearch"
        backend = get_backend()
        meta["es"] = backend.client.info()["version"]["number"]
        # Documents alone (database + Python): the part of indexing Elasticsearch does not do.
        log("building 20,000 documents without sending them")
        sample = list(visible_products().select_related("vendor", "brand").order_by("pk")[:20_000])
        serializer = backend.client.transport.serializers.get_serializer("application/json")
        started = time.perf_counter()
        paths = CategoryPaths()
        for start in range(0, len(sample), args.chunk_size):
            documents = product_documents(sample[start:start + args.chunk_size], paths=paths)
            serializer.dumps([d.source for d in documents])  # what the client sends
        build_rate = len(sample) / (time.perf_counter() - started)
        del sample

        log(f"rebuilding the search indices ({meta['products']:,} products) under the prefix {PREFIX}")
        load_before = os.getloadavg()[0]
        rebuilt = backend.rebuild(chunk_size=args.chunk_size,
                                  progress=lambda kind, done, total, s: log(f"  {kind}: {done:,}/{total:,} "
                                                                             f"({done / s if s else 0:,.0f} docs/s)")
                                  if done and (done == total or done % 20_000 < args.chunk_size) else None)
        products = rebuilt["products"]

        def clear():
            backend.client.indices.clear_cache(index=backend.alias("products"), request=True)

        try:
            run = run_workload(bench_env(database_url, es_url, "elasticsearch"), queries, args,
                               clear if args.no_request_cache else None)
        finally:
            if not args.keep_index:
                for index in backend.all_indices():
                    if index.startswith(PREFIX):
                        backend.client.indices.delete(index=index, ignore_unavailable=True)
        rate = products["per_second"]
        if args.json:
            every = [t for values in run["timings"].values() for t in values]
            Path(args.json).write_text(json.dumps({
                "products": meta["products"], "p50": percentile(every, 50), "p95": percentile(every, 95),
                "indexing_per_s": rate, "load_start": run["load"][0], "load_end": run["load"][1]}, indent=1))
        lines += [
            f"Elasticsearch {meta['es']} (local single node), {run['server']}",
            f"bulk indexing: {products['documents']:,} products in {products['indexing_seconds']:.1f}s = {rate:,.0f} "
            f"docs/s (target {TARGETS['indexing']}: {'OK' if rate >= 3000 else 'MISSED'}; load {load_before:.2f} "
            f"before); then force-merged in {products['merge_seconds']:.1f}s before going live; "
            f"documents alone are built at {build_rate:,.0f}/s; shops: {rebuilt['shops']['documents']:,}",
            *latency_lines(f"searches (request cache {'cleared before each' if args.no_request_cache else 'on'})",
                           run, queries, args, TARGETS["elasticsearch"]),
            "",
        ]

    if "database" in backends:
        from search.models import ProductSearchRow

        settings.SEARCH_BACKEND = "database"
        backend = get_backend()
        rows = ProductSearchRow.objects.count()
        total_products = visible_products().model.objects.count()
        if args.rebuild_rows or rows != total_products:
            log(f"building the database backend's rows ({total_products:,} products)")
            built = backend.rebuild(kinds=("products",), chunk_size=max(args.chunk_size, 2000),
                                    progress=lambda kind, done, total, s: log(
                                        f"  rows: {done:,}/{total:,} ({done / s if s else 0:,.0f}/s)")
                                    if done and (done == total or done % 20_000 < 2000) else None)["products"]
            rows_line = (f"rows: {built['documents']:,} built in {built['seconds']:.1f}s "
                         f"({built['per_second']:,.0f}/s)")
        else:  # as the nightly maintenance leaves them (the rebuild ends the same way)
            optimized = backend.optimize()
            rows_line = (f"rows: {rows:,} present (--rebuild-rows to rebuild), optimized in "
                         f"{optimized['seconds']:.1f}s (search_index optimize)")
        run = run_workload(bench_env(database_url, es_url, "database"), queries, args)
        lines += [f"database backend (PostgreSQL {connection.pg_version // 10000}: tsvector + GIN, pg_trgm), "
                  f"{run['server']}; {rows_line}",
                  *latency_lines("searches", run, queries, args, TARGETS["database"]), ""]

    print(f"search benchmark - {meta['products']:,} visible products in {meta['database']} "
          f"(PostgreSQL {meta['pg'] // 10000}), seed {args.seed}")
    print("\n".join(lines).rstrip())


if __name__ == "__main__":
    main()
