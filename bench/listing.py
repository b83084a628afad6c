#!/usr/bin/env python
"""Benchmark: the GraphQL product listing, product detail and `{ __typename }`,
served by gunicorn from PostgreSQL with production-like settings. Prints figures next
to the targets of /work/shared/TARGETS.md. Not a test: nothing here fails a build.

    eval "$(python3 scripts/localservices.py env)"
    python bench/listing.py                      # about 90 s once the data exist (first run: +2 min to generate)
    python bench/listing.py --profile            # and profile listing requests in-process
    python bench/listing.py --gc-freeze          # experiment: gc.freeze() in the workers (bench/gunicorn_gc.py)

What it does, all on 127.0.0.1, every loop bounded, gunicorn killed at the end:
1. creates the database `marketplace_bench` next to $DATABASE_URL's if missing,
   migrates it, loads the demo (populatedb) and generates --products synthetic products
   (generate_products; both idempotent, so later runs skip straight to measuring);
2. starts the web process exactly as `make serve` does (scripts/serve.py --processes web:
   gunicorn.conf.py, MARKETPLACE_ENV=production, so DEBUG off, persistent DB connections,
   a real SECRET_KEY; here 2 gthread workers);
3. measures with keep-alive HTTP clients (stdlib http.client): warm-up, then N sequential
   requests per query -> p50/p95/p99; 8 concurrent clients for 15 s -> req/s;
4. counts SQL queries and splits app/DB time in-process (Django test client +
   CaptureQueriesContext), once per page size;
5. the same listing signed in: as the demo member (member@demo.marketplace, an active
   membership, so member prices through the membership plugin) and as a signed-in
   non-member (member.en@demo.marketplace), requests interleaved with anonymous ones so
   machine noise hits all three alike: p50/p95 against the anonymous listing and SQL
   queries per page size (target: the same budget, p50 within 20% of anonymous).
"""
import argparse
import http.client
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent

LISTING = """
query Listing($first: Int!) {
  products(first: $first) {
    totalCount
    edges { node {
      id nameZh nameEn
      vendor { nameZh slug }
      category { nameZh }
      brand { nameEn }
      variants {
        sku available
        price { list { amount currency } final { amount } adjustments { source label amount { amount } } floorApplied }
      }
    } }
  }
}"""

DETAIL = """
query Detail($id: ID!) {
  product(id: $id) {
    id nameZh nameEn slug descriptionZh descriptionEn minPrice inStock
    vendor { nameZh nameEn slug phone isOpenNow }
    category { nameZh nameEn }
    brand { nameZh nameEn }
    productType { nameZh }
    attributes { attribute { slug nameZh nameEn unit } value }
    variants {
      sku name weightGrams available inStock
      price {
        list { amount currency } final { amount } discount { amount }
        adjustments { source label amount { amount } } floor { amount } floorApplied floorExempt
      }
    }
  }
}"""

TYPENAME = "{ __typename }"
LOGIN = """mutation($e: String!, $p: String!) {
  tokenCreate(email: $e, password: $p) { accessToken errors { code } } }"""
DEMO_PASSWORD = "demo-pass-2026"  # fixtures/demo.py
DEMO_MEMBER = "member@demo.marketplace"  # has an active membership (plugins/membership/demo.py)
DEMO_NON_MEMBER = "member.en@demo.marketplace"

TARGETS = {
    "typename": "p50 <= 5 ms",
    "listing": "p50 <= 40 ms, p95 <= 60 ms",
    "queries": "<= 12, same for any page size",
    "detail": "p50 <= 25 ms",
    "throughput": ">= 30 req/s",
    "ratio": "<= 5x",
    "member": "p50 within 20% of anonymous",
    "member_queries": "same budget (<= 12)",
}


# -- setup --------------------------------------------------------------------------------
def log(message):
    print(message, file=sys.stderr, flush=True)


def with_database(url, name):
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def pg_connect(url, autocommit=True):
    import psycopg

    return psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=autocommit)


def ensure_database(base_url, name):
    with pg_connect(base_url) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            log(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')


def server_env(database_url):
    """Production-like: DEBUG off, a real secret, persistent connections."""
    env = dict(os.environ)
    env.pop("MARKETPLACE_ENV", None)  # production mode also insists on ALLOWED_HOSTS etc.; the switches below suffice
    env.update(
        DJANGO_SETTINGS_MODULE="marketplace.settings",
        DATABASE_URL=database_url,
        DEBUG="0",
        SECRET_KEY="bench-secret-key-not-for-production-0123456789abcdef",
        DATABASE_CONN_MAX_AGE="60",
        LOG_LEVEL="WARNING",
        GRAPHQL_GRAPHIQL="0",
        CACHE_KEY_PREFIX="bench",
    )
    return env


def setup_env(database_url):
    """For migrate/populate/generate: Celery eager, no messages into the shared Redis."""
    env = server_env(database_url)
    for name in ("REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CACHE_URL"):
        env.pop(name, None)
    return env


def manage(env, *args):
    started = time.perf_counter()
    log(f"$ manage.py {' '.join(args)}")
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)
    return time.perf_counter() - started


def prepare_data(database_url, products):
    env = setup_env(database_url)
    manage(env, "migrate", "--noinput", "-v", "0")
    with pg_connect(database_url) as conn:
        has_demo = conn.execute("SELECT count(*) FROM vendors_vendor WHERE slug = 'jingcheng-auto-parts'").fetchone()[0]
    if not has_demo:  # before the synthetic products: plugin demo loaders may scan the whole catalog
        manage(env, "populatedb")
    elif not demo_member_ready(database_url):  # a database from before the membership plugin: add its demo
        manage(env, "populatedb")
    seconds = manage(env, "generate_products", str(products))
    with pg_connect(database_url) as conn:
        conn.execute("VACUUM ANALYZE")
        total, listed = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE p.status = 'published' AND v.status = 'approved') "
            "FROM catalog_product p JOIN vendors_vendor v ON v.id = p.vendor_id").fetchone()
        version = conn.execute("SHOW server_version").fetchone()[0]
    return {"products": total, "listed": listed, "pg": version, "generate_seconds": seconds}


def demo_member_ready(database_url):
    """Whether the demo member has a membership (the membership plugin's demo ran)."""
    with pg_connect(database_url) as conn:
        if conn.execute("SELECT to_regclass('membership_membership')").fetchone()[0] is None:
            return True  # the plugin is not installed here: nothing to load
        return conn.execute(
            "SELECT count(*) FROM membership_membership m JOIN accounts_user u ON u.id = m.user_id "
            "WHERE u.email = %s", [DEMO_MEMBER]).fetchone()[0] > 0


# -- server -----------------------------------------------------------------------------------
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, env, workers, threads, worker_class, gc_freeze=False, processes="web"):
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="bench-gunicorn-", suffix=".log", delete=False)
        # What `make serve` runs (scripts/serve.py: Procfile, gunicorn.conf.py, MARKETPLACE_ENV=production);
        # `processes` picks the Procfile entries (a read-only benchmark needs only `web`).
        cmd = [sys.executable, str(ROOT / "scripts" / "serve.py"), "--no-prepare", "--processes", processes,
               "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers), "--worker-class", worker_class,
               "--threads", str(threads)]
        if gc_freeze:
            cmd += ["--gunicorn-config", str(Path(__file__).with_name("gunicorn_gc.py"))]
        env = {**env, "GUNICORN_LOG_LEVEL": "warning"}
        from importlib.metadata import version

        self.describe = (f"make serve's {processes} (gunicorn {version('gunicorn')}, {workers} {worker_class} workers"
                         f" x {threads} threads, MARKETPLACE_ENV=production)"
                         + (", gc.freeze() in workers (--gc-freeze)" if gc_freeze else ""))
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def wait(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.proc.returncode}):\n{self.tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/health/")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {timeout}s:\n{self.tail()}")

    def tail(self):
        return Path(self.log.name).read_text(errors="replace")[-3000:]

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)  # the arbiter and its workers: all started by us
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)


# -- client ------------------------------------------------------------------------------------------
class Client:
    """One keep-alive connection (signed in when given a bearer `token`)."""

    def __init__(self, port, token=None):
        self.port = port
        self.conn = None
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def post(self, body):
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.conn.request("POST", "/graphql/", body, self.headers)
                response = self.conn.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return response.status, data
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        if self.conn is not None:
            self.conn.close()


def body(query, variables=None):
    return json.dumps({"query": query, "variables": variables or {}}).encode()


def check(status, data, what):
    if status != 200:
        raise RuntimeError(f"{what}: HTTP {status}: {data[:500]!r}")
    payload = json.loads(data)
    if payload.get("errors"):
        raise RuntimeError(f"{what}: {payload['errors'][:3]}")
    return payload["data"]


def sign_in(client, email):
    """A bearer token for a demo account, or None (the account or the plugin is missing)."""
    status, data = client.post(body(LOGIN, {"e": email, "p": DEMO_PASSWORD}))
    if status != 200:
        return None
    payload = json.loads(data).get("data") or {}
    return (payload.get("tokenCreate") or {}).get("accessToken")


def percentile(values, p):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def sequential(client, payload, count, warmup, what):
    check(*client.post(payload), what)
    for _ in range(warmup):
        client.post(payload)
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        status, data = client.post(payload)
        timings.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise RuntimeError(f"{what}: HTTP {status}")
    return {"p50": percentile(timings, 50), "p95": percentile(timings, 95), "p99": percentile(timings, 99),
            "mean": statistics.fmean(timings), "n": count}


def interleaved(callers, payload, count, warmup):
    """Round-robin the same request over several callers ({name: Client}) so machine noise
    hits them alike: {name: {"p50", "p95", "p99", "mean", "n"}}."""
    for name, caller in callers.items():
        check(*caller.post(payload), f"listing ({name})")
        for _ in range(warmup):
            caller.post(payload)
    timings = {name: [] for name in callers}
    for _ in range(count):
        for name, caller in callers.items():
            started = time.perf_counter()
            status, _data = caller.post(payload)
            timings[name].append((time.perf_counter() - started) * 1000)
            if status != 200:
                raise RuntimeError(f"listing ({name}): HTTP {status}")
    return {name: {"p50": percentile(values, 50), "p95": percentile(values, 95), "p99": percentile(values, 99),
                   "mean": statistics.fmean(values), "n": len(values)} for name, values in timings.items()}


def throughput(port, payload, clients, seconds):
    start = threading.Barrier(clients + 1)
    results = []
    lock = threading.Lock()

    def run():
        client = Client(port)
        ok, errors, timings = 0, 0, []
        try:
            for _ in range(3):  # warm this connection's worker
                client.post(payload)
        except Exception:
            errors += 1
        start.wait()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            began = time.perf_counter()
            try:
                status, _data = client.post(payload)
            except Exception:
                errors += 1
                continue
            timings.append((time.perf_counter() - began) * 1000)
            if status == 200:
                ok += 1
            else:
                errors += 1
        client.close()
        with lock:
            results.append((ok, errors, timings))

    threads = [threading.Thread(target=run, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    elapsed = time.perf_counter() - began
    ok = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    timings = [t for r in results for t in r[2]]
    return {"rps": ok / elapsed, "ok": ok, "errors": errors,
            "p50": percentile(timings, 50) if timings else float("nan"),
            "p95": percentile(timings, 95) if timings else float("nan")}


# -- in-process: SQL queries and app/DB time ---------------------------------------------------------
def in_process(env, product_id, page_sizes, repeat, profile, tokens=None):
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    tokens = tokens or {}
    from django.db import connection
    from django.test import Client as DjangoClient
    from django.test.utils import CaptureQueriesContext

    client = DjangoClient()

    def post(query, variables=None):
        response = client.post("/graphql/", body(query, variables), content_type="application/json")
        check(response.status_code, response.content, "in-process")

    out = {"queries": {}, "signed_in": {}}
    post(LISTING, {"first": 50})  # warm
    for size in page_sizes:
        with CaptureQueriesContext(connection) as ctx:
            post(LISTING, {"first": size})
        out["queries"][size] = len(ctx.captured_queries)
        if size == 50:
            out["sql"] = [q["sql"][:160] for q in ctx.captured_queries]
    for who, token in tokens.items():
        if not token:
            continue
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        client.post("/graphql/", body(LISTING, {"first": 50}), content_type="application/json", **headers)  # warm
        counts = {}
        for size in page_sizes:
            with CaptureQueriesContext(connection) as ctx:
                response = client.post("/graphql/", body(LISTING, {"first": size}), content_type="application/json",
                                       **headers)
            check(response.status_code, response.content, f"in-process ({who})")
            counts[size] = len(ctx.captured_queries)
            if size == 50:
                out.setdefault("member_sql", {})[who] = [q["sql"][:160] for q in ctx.captured_queries]
        out["signed_in"][who] = counts
    for name, query, variables in (("detail", DETAIL, {"id": product_id}), ("typename", TYPENAME, None)):
        with CaptureQueriesContext(connection) as ctx:
            post(query, variables)
        out["queries"][name] = len(ctx.captured_queries)

    db_time = [0.0]

    def timed(execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            db_time[0] += time.perf_counter() - began

    for _ in range(5):
        post(LISTING, {"first": 50})
    with connection.execute_wrapper(timed):
        began = time.perf_counter()
        for _ in range(repeat):
            post(LISTING, {"first": 50})
        total = time.perf_counter() - began
    out["total_ms"] = total / repeat * 1000
    out["db_ms"] = db_time[0] / repeat * 1000
    if profile:
        out["profile"] = run_profile(lambda: post(LISTING, {"first": 50}), repeat)
    return out


def run_profile(call, repeat):
    try:
        from pyinstrument import Profiler
    except ImportError:
        Profiler = None
    if Profiler is not None:
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(repeat):
            call()
        profiler.stop()
        return profiler.output_text(unicode=True, color=False, show_all=False)
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        call()
    profiler.disable()
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(40)
    return stream.getvalue()


# -- report --------------------------------------------------------------------------------------------
def verdict(ok):
    return "ok" if ok else "MISSED"


def report(meta, r):
    rows = []
    t = r["typename"]
    rows.append(("{ __typename } p50", f"{t['p50']:.1f} ms", TARGETS["typename"], verdict(t["p50"] <= 5)))
    listing = r["listing50"]
    rows.append(("listing first:50 p50 / p95 / p99",
                 f"{listing['p50']:.1f} / {listing['p95']:.1f} / {listing['p99']:.1f} ms", TARGETS["listing"],
                 verdict(listing["p50"] <= 40 and listing["p95"] <= 60)))
    rows.append(("listing first:10 p50 / p95", f"{r['listing10']['p50']:.1f} / {r['listing10']['p95']:.1f} ms", "", ""))
    rows.append(("listing first:100 p50 / p95", f"{r['listing100']['p50']:.1f} / {r['listing100']['p95']:.1f} ms",
                 "", ""))
    q = r["inproc"]["queries"]
    sizes = [q[10], q[50], q[100]]
    rows.append(("SQL queries per listing (first 10 / 50 / 100)", " / ".join(map(str, sizes)), TARGETS["queries"],
                 verdict(max(sizes) <= 12 and len(set(sizes)) == 1)))
    rows.append(("SQL queries: detail / __typename", f"{q['detail']} / {q['typename']}", "", ""))
    d = r["detail"]
    rows.append(("product detail p50 / p95", f"{d['p50']:.1f} / {d['p95']:.1f} ms", TARGETS["detail"],
                 verdict(d["p50"] <= 25)))
    tp = r["throughput"]
    rows.append((f"listing first:50, {meta['clients']} clients x {meta['seconds']} s",
                 f"{tp['rps']:.1f} req/s (p50 {tp['p50']:.0f} ms, p95 {tp['p95']:.0f} ms, {tp['errors']} errors)",
                 TARGETS["throughput"], verdict(tp["rps"] >= 30 and not tp["errors"])))
    ip = r["inproc"]
    ratio = ip["total_ms"] / ip["db_ms"] if ip["db_ms"] else float("inf")
    rows.append(("app time / DB time, listing first:50 (in-process)",
                 f"{ratio:.1f}x ({ip['total_ms']:.1f} ms total, {ip['db_ms']:.1f} ms in SQL)", TARGETS["ratio"],
                 verdict(ratio <= 5)))
    anonymous = r.get("listing50_anonymous")
    if anonymous is not None:
        rows.append(("listing first:50 anonymous, interleaved with the two below, p50 / p95",
                     f"{anonymous['p50']:.1f} / {anonymous['p95']:.1f} ms", "", ""))
    base = (anonymous or listing)["p50"]
    for who, label in (("member", "a member (member prices)"), ("non_member", "a signed-in non-member")):
        figures = r.get(f"listing50_{who}")
        if figures is None:
            rows.append((f"listing first:50 as {label}", "skipped (could not sign in)", "", ""))
            continue
        slower = (figures["p50"] / base - 1) * 100 if base else float("nan")
        rows.append((f"listing first:50 as {label} p50 / p95",
                     f"{figures['p50']:.1f} / {figures['p95']:.1f} ms ({slower:+.0f}% vs anonymous)",
                     TARGETS["member"], verdict(figures["p50"] <= base * 1.2)))
        counts = r["inproc"]["signed_in"].get(who, {})
        sizes_signed = [counts.get(size) for size in (10, 50, 100)]
        if None not in sizes_signed:
            rows.append((f"SQL queries per listing as {label} (first 10 / 50 / 100)",
                         " / ".join(map(str, sizes_signed)), TARGETS["member_queries"],
                         verdict(max(sizes_signed) <= 12 and len(set(sizes_signed)) == 1)))
    widths = [max(len(row[i]) for row in rows + [("what", "measured", "target", "")]) for i in range(4)]
    lines = [
        f"Listing benchmark - {meta['products']:,} products ({meta['listed']:,} listed), PostgreSQL {meta['pg']}, "
        f"{meta['server']}, Python {platform.python_version()}, DEBUG off, CONN_MAX_AGE=60, "
        f"{os.cpu_count()} CPUs; {meta['requests']} sequential requests per figure after {meta['warmup']} warm-up",
        f"machine load average (1 min) at start / end of the measurements: {meta['load_start']:.2f} / "
        f"{meta['load_end']:.2f} (other work on the machine slows every figure)",
        "",
        "  ".join(h.ljust(w) for h, w in zip(("what", "measured", "target", ""), widths)),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="marketplace_bench", help="database name (created if missing)")
    parser.add_argument("--products", type=int, default=100_000, help="synthetic products to make sure exist")
    parser.add_argument("--requests", type=int, default=200, help="sequential requests per figure")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"])
    parser.add_argument("--gc-freeze", action="store_true",
                        help="experiment: gc.freeze() and a higher GC threshold in the workers (bench/gunicorn_gc.py)")
    parser.add_argument("--profile", action="store_true", help="profile in-process listing requests too")
    parser.add_argument("--show-sql", action="store_true", help="print the listing's SQL statements")
    parser.add_argument("--json", help="also write the key figures to this file (bench/all.py reads it)")
    args = parser.parse_args()

    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        sys.exit('Needs PostgreSQL: eval "$(python3 scripts/localservices.py env)" first.')
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        sys.exit("gunicorn is not installed: pip install gunicorn==27.0.1")
    database_url = with_database(base, args.database)
    ensure_database(base, args.database)
    meta = prepare_data(database_url, args.products)
    meta.update(clients=args.clients, seconds=args.seconds, requests=args.requests, warmup=args.warmup)
    env = server_env(database_url)
    server = Server(env, args.workers, args.threads, args.worker_class, args.gc_freeze)
    meta["server"] = server.describe
    results = {}
    tokens = {}
    meta["load_start"] = os.getloadavg()[0]
    try:
        server.wait()
        client = Client(server.port)
        listing = check(*client.post(body(LISTING, {"first": 50})), "listing")
        product_id = next(e["node"]["id"] for e in listing["products"]["edges"] if len(e["node"]["variants"]) > 1)
        log("measuring sequential latencies")
        results["typename"] = sequential(client, body(TYPENAME), args.requests, args.warmup, "typename")
        for size in (50, 10, 100):
            results[f"listing{size}"] = sequential(client, body(LISTING, {"first": size}), args.requests,
                                                   args.warmup, f"listing first:{size}")
        results["detail"] = sequential(client, body(DETAIL, {"id": product_id}), args.requests, args.warmup,
                                       "detail")
        for who, email in (("member", DEMO_MEMBER), ("non_member", DEMO_NON_MEMBER)):
            tokens[who] = sign_in(client, email)
        signed = {who: Client(server.port, token) for who, token in tokens.items() if token}
        if signed:
            log("measuring the listing anonymous / as a member / as a non-member, interleaved")
            callers = {"anonymous": client, **signed}
            for who, figures in interleaved(callers, body(LISTING, {"first": 50}), args.requests,
                                            args.warmup).items():
                results[f"listing50_{who}"] = figures
            for caller in signed.values():
                caller.close()
        client.close()
        log(f"measuring throughput: {args.clients} clients for {args.seconds} s")
        results["throughput"] = throughput(server.port, body(LISTING, {"first": 50}), args.clients, args.seconds)
    finally:
        meta["load_end"] = os.getloadavg()[0]
        server.stop()
    log("counting SQL queries in-process")
    results["inproc"] = in_process(env, product_id, (10, 50, 100), 50, args.profile, tokens)
    print(report(meta, results))
    if args.json:
        ip = results["inproc"]
        figures = {
            "products": meta["products"], "load_start": meta["load_start"], "load_end": meta["load_end"],
            "listing50_p50": results["listing50"]["p50"], "listing50_p95": results["listing50"]["p95"],
            "typename_p50": results["typename"]["p50"], "detail_p50": results["detail"]["p50"],
            "throughput_rps": results["throughput"]["rps"], "sql_queries": ip["queries"][50],
            "app_ms": ip["total_ms"], "sql_ms": ip["db_ms"], "ratio": ip["total_ms"] / ip["db_ms"] if ip["db_ms"] else None,
        }
        for who in ("anonymous", "member", "non_member"):
            if f"listing50_{who}" in results:
                figures[f"listing50_{who}_p50"] = results[f"listing50_{who}"]["p50"]
        Path(args.json).write_text(json.dumps(figures, indent=1))
    if args.show_sql:
        print("\nSQL of one listing (first: 50):")
        for sql in results["inproc"]["sql"]:
            print("  " + sql)
        for who, statements in results["inproc"].get("member_sql", {}).items():
            print(f"\nSQL of one listing (first: 50) as the {who.replace('_', '-')}:")
            for sql in statements:
                print("  " + sql)
    if args.profile:
        print("\nProfile of 50 in-process listing requests (first: 50):\n")
        print(results["inproc"]["profile"])


if __name__ == "__main__":
    main()
