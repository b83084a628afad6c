#!/usr/bin/env python
"""Benchmark: abusive and malformed requests against a production-mode server. Prints,
for each document, the status, the error code and the quietest of three answer times,
then the slowest one against the target of /work/shared/TARGETS.md ("refused with a
coded error in < 1 s"). Not a test: nothing here fails a build.

    eval "$(python3 scripts/localservices.py env)"
    python bench/abuse.py                 # about 40 s once the database exists (first run: +20 s to migrate)
    python bench/abuse.py --only fan      # documents whose name contains "fan"
    python bench/abuse.py --timeout 30    # client timeout per request (default 120 s)

What it does, all on 127.0.0.1, every loop bounded, gunicorn killed at the end:
1. creates the database `<name of $DATABASE_URL>_abuse` if missing and migrates it (no data
   needed: every document is refused or answers from an empty catalog);
2. starts gunicorn (2 gthread workers) with DEBUG off, persistent DB connections and a
   real SECRET_KEY (bench/listing.py's production-like environment);
3. sends each document three times on a fresh connection, each time with a different
   trailing comment so that the server's cache of validated documents never helps, and
   keeps the quickest answer (a request that times out is sent once, and the server is
   restarted so that a pinned worker does not slow the next document).
"""
import argparse
import http.client
import json
import os
import platform
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from listing import ROOT, Server, ensure_database, log, manage, server_env, setup_env, with_database  # noqa: E402

TARGET_SECONDS = 1.0
SECRET_KEY = server_env("")["SECRET_KEY"]


def fan_out(levels):
    """Each fragment spreads the next twice: 2**levels __typename fields if expanded."""
    fragments = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels))
    return "{ ...F0 } " + fragments + f" fragment F{levels} on Query {{ __typename }}"


NONCE = [0]


def gql(query, variables=None, operation_name=None):
    """A JSON body. Each call gets a distinct trailing comment, so the server's cache of
    parsed and validated documents never answers for it: every run pays full price."""
    NONCE[0] += 1
    body = {"query": f"{query}\n# {NONCE[0]}", "variables": variables or {}}
    if operation_name:
        body["operationName"] = operation_name
    return json.dumps(body).encode()


def forged_token(**claims):
    import jwt

    base = {"typ": "access", "sub": "1", "sid": "00000000-0000-0000-0000-000000000000", "jti": "x" * 32,
            "iat": int(time.time()), "exp": int(time.time()) + 600}
    base.update(claims)
    return jwt.encode(base, SECRET_KEY, algorithm="HS256")


def documents():
    """(name, body bytes, content type, extra headers); built anew for every run."""
    json_type = "application/json"
    docs = [
        ("fragment fan-out, 22 levels (issue 15.1)", gql(fan_out(22)), json_type, {}),
        ("fragment fan-out, 30 levels", gql(fan_out(30)), json_type, {}),
        ("fragment fan-out with fields, 25 levels",
         gql("{ ...F0 } " + " ".join(f"fragment F{i} on Query {{ a: me {{ id }} ...F{i + 1} ...F{i + 1} }}"
                                     for i in range(25)) + " fragment F25 on Query { me { id } }"), json_type, {}),
        ("5,000 named operations (issue 15.2)",
         gql(" ".join(f"query Q{i} {{ __typename }}" for i in range(5000)), operation_name="Q0"), json_type, {}),
        ("50 aliased __schema walks (issue 15.2)",
         gql("{ " + " ".join(f"s{i}: __schema {{ types {{ name fields {{ name type {{ name }} }} }} }}"
                             for i in range(50)) + " }"), json_type, {}),
        ("10 full introspection walks, no aliases",
         gql("{ " + " ".join("__schema { types { name fields { name args { name type { name } } "
                             "type { name ofType { name } } } } }" for _ in range(10)) + " }"), json_type, {}),
        ("1,000 named operations", gql(" ".join(f"query Q{i} {{ __typename }}" for i in range(1000)),
                                        operation_name="Q0"), json_type, {}),
        ("same field 5,000 times (overlap check)", gql("{ " + "me { id } " * 5000 + "}"), json_type, {}),
        ("same field 2,000 times", gql("{ " + "me { id } " * 2000 + "}"), json_type, {}),
        ("20 x me { 20 x addresses { 20 x city } }",
         gql("{ " + ("me { " + ("addresses { " + "city " * 20 + "} ") * 20 + "} ") * 20 + "}"), json_type, {}),
        ("3,000 distinct fragment spreads",
         gql("{ " + " ".join(f"...F{i}" for i in range(3000)) + " } "
             + " ".join(f"fragment F{i} on Query {{ me {{ id }} }}" for i in range(3000))), json_type, {}),
        ("500 distinct fragment spreads",
         gql("{ " + " ".join(f"...F{i}" for i in range(500)) + " } "
             + " ".join(f"fragment F{i} on Query {{ me {{ id }} }}" for i in range(500))), json_type, {}),
        ("200 fragments spread pairwise",
         gql("{ " + " ".join(f"...F{i}" for i in range(200)) + " } "
             + " ".join(f"fragment F{i} on Query {{ me {{ id email }} __typename }}" for i in range(200))),
         json_type, {}),
        ("fragment chain of 200",
         gql("{ ...F0 } " + " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(199))
             + " fragment F199 on Query { __typename }"), json_type, {}),
        ("15,000 __typename", gql("{ " + "__typename " * 15000 + "}"), json_type, {}),
        ("10,000 aliases", gql("{ " + " ".join(f"a{i}: __typename" for i in range(10000)) + " }"), json_type, {}),
        ("3,000 aliases", gql("{ " + " ".join(f"a{i}: __typename" for i in range(3000)) + " }"), json_type, {}),
        ("depth 200", gql("{ " + "me { " * 200 + "id" + " }" * 200 + " }"), json_type, {}),
        ("list literal nested 3,000 deep",
         gql("{ partNumberLookup(number: " + "[" * 3000 + "1" + "]" * 3000 + ") { variant { sku } } }"),
         json_type, {}),
        ("3,000 variables", gql("query(" + " ".join(f"$v{i}: Int" for i in range(3000)) + ") { __typename }"),
         json_type, {}),
        ("directive x 5,000", gql("{ __typename " + "@include(if: true) " * 5000 + "}"), json_type, {}),
        ("directive x 1,500", gql("{ __typename " + "@include(if: true) " * 1500 + "}"), json_type, {}),
        ("9,000 tokens of arguments",
         gql("{ products(filter: {categories: [" + ", ".join(['"x"'] * 4500) + "]}) { totalCount } }"),
         json_type, {}),
        ("100 variables, each used", gql("query(" + " ".join(f"$v{i}: Boolean!" for i in range(100)) + ") { "
                                         + " ".join(f"a{i}: __typename @include(if: $v{i}) @skip(if: $v{i + 50})" for i in range(50))
                                         + " }", {f"v{i}": True for i in range(100)}), json_type, {}),
        ("first: 100000", gql("{ products(first: 100000) { edges { node { id } } } }"), json_type, {}),
        ("variables nested 10,000 deep (issue 15.3)",
         b'{"query": "query($x: [Int]) { __typename }", "variables": {"x": ' + b"[" * 10000 + b"]" * 10000 + b"}}",
         json_type, {}),
        ("body nested 100,000 deep", b'{"query": ' + b"[" * 100000 + b"]" * 100000 + b"}", json_type, {}),
        ("variables 2 MB string", gql("query($s: String!) { partNumberLookup(number: $s) { variant { sku } } }",
                                       {"s": "x" * 2_000_000}), json_type, {}),
        ("body over 3 MB", gql("{ __typename }", {"pad": "x" * 3_000_000}), json_type, {}),
        ("not UTF-8", b'{"query": "{ __typename }", "x": "\xff\xfe"}', json_type, {}),
        ("NaN literal in JSON", b'{"query": "query($x: Float) { __typename }", "variables": {"x": NaN}}',
         json_type, {}),
        ("NUL in a string argument (issue 15.4)",
         gql('{ partNumberLookup(number: "04465\\u0000") { variant { sku } } }'), json_type, {}),
        ("NaN decimal variable (issue 15.5)",
         gql("query($x: Decimal) { products(first: 1, filter: {price: {min: $x}}) { totalCount } }", {"x": "NaN"}),
         json_type, {}),
        ("negative offset (issue 15.6)", gql("{ products(offset: -1, first: 5) { edges { node { id } } } }"),
         json_type, {}),
        ("invalid UUID literal (issue 15.6)", gql('{ checkout(token: "zzz") { token } }'), json_type, {}),
        ("access token with sid: 5 (issue 15.8)", gql("{ me { id } }"), json_type,
         {"Authorization": "Bearer " + forged_token(sid=5)}),
    ]
    return docs


def send(port, body, content_type, headers, timeout):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    began = time.perf_counter()
    try:
        conn.request("POST", "/graphql/", body, {"Content-Type": content_type, **headers})
        response = conn.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - began
        return elapsed, response.status, response.getheader("Content-Type", ""), data
    except TimeoutError:
        return None, None, "", b""
    finally:
        conn.close()


def describe(status, content_type, data):
    if status is None:
        return "timeout", "-"
    if not content_type.startswith("application/json"):
        return f"HTTP {status} {content_type or 'no type'}", "NOT JSON"
    try:
        payload = json.loads(data)
    except ValueError:
        return f"HTTP {status}", "NOT JSON"
    codes = sorted({(e.get("extensions") or {}).get("code", "?") for e in payload.get("errors") or []})
    return f"HTTP {status}", ",".join(codes) or "data"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="run only documents whose name contains this")
    parser.add_argument("--timeout", type=float, default=120.0, help="client timeout per request, seconds")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        sys.exit("Set DATABASE_URL to PostgreSQL: eval \"$(python3 scripts/localservices.py env)\"")
    name = base.rsplit("/", 1)[-1].split("?")[0] + "_abuse"
    ensure_database(with_database(base, "postgres"), name)  # the slot database itself may not exist
    url = with_database(base, name)
    manage(setup_env(url), "migrate", "--noinput", "-v", "0")
    env = server_env(url)
    # make serve insists on REDIS_URL, as production does: the slot's own Redis database (cache
    # keys prefixed "bench"); no Celery broker of its own and nothing into the search node.
    for key in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "ELASTICSEARCH_URL"):
        env.pop(key, None)
    server = Server(env, workers=2, threads=2, worker_class="gthread")
    rows = []
    try:
        server.wait()
        runs = [documents() for _ in range(args.runs)]  # each run's documents differ (cache-busting comment)
        for index, (doc_name, *_rest) in enumerate(runs[0]):
            if args.only and args.only.lower() not in doc_name.lower():
                continue
            best, outcome = None, None
            for run in runs:
                _name, body, content_type, headers = run[index]
                elapsed, status, ctype, data = send(server.port, body, content_type, headers, args.timeout)
                outcome = describe(status, ctype, data)
                if elapsed is None:  # pinned worker: start a fresh server for the next document
                    server.stop()
                    server = Server(env, workers=2, threads=2, worker_class="gthread")
                    server.wait()
                    best = None
                    break
                best = elapsed if best is None else min(best, elapsed)
            rows.append((doc_name, len(body), best, *outcome))
            shown = f">{args.timeout:.0f} s" if best is None else f"{best * 1000:8.1f} ms"
            log(f"{shown:>12}  {outcome[0]:<12} {outcome[1]:<28} {doc_name}")
    finally:
        server.stop()
    print()
    print(f"bench/abuse.py  {time.strftime('%Y-%m-%d %H:%M')}  {platform.node()}  load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}  {server.describe}, DEBUG off")
    print(f"{'document':<44} {'bytes':>9} {'time':>12}  {'answer':<22} code")
    for doc_name, size, best, status, code in rows:
        shown = f">{args.timeout:.0f} s" if best is None else f"{best * 1000:.1f} ms"
        print(f"{doc_name:<44} {size:>9} {shown:>12}  {status:<22} {code}")
    if not rows:
        return
    slowest = max(rows, key=lambda r: float("inf") if r[2] is None else r[2])
    shown = f">{args.timeout:.0f} s" if slowest[2] is None else f"{slowest[2]:.3f} s"
    bad = [r for r in rows if r[4] in ("NOT JSON", "INTERNAL_ERROR") or r[3].startswith("HTTP 5")]
    ok = slowest[2] is not None and slowest[2] < TARGET_SECONDS
    print(f"\nslowest: {slowest[0]}: {shown} (target < {TARGET_SECONDS:.0f} s: {'ok' if ok else 'MISSED'})")
    print(f"answers that are 5xx, not JSON or INTERNAL_ERROR: {len(bad)}"
          + "".join(f"\n  - {r[0]}: {r[3]} {r[4]}" for r in bad))


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop gunicorn on the way out (finally)
    os.chdir(ROOT)
    main()
