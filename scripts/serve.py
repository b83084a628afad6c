#!/usr/bin/env python3
"""Run the engine as production does, on this machine: gunicorn + a Celery worker + beat
(the Procfile's `web`, `worker`, `beat`) with MARKETPLACE_ENV=production against the
services in the environment (`make serve` sets them from scripts/localservices.py).

    python scripts/serve.py [--bind 127.0.0.1:8000] [--workers 2] [--threads 4] [--demo]
    python scripts/serve.py --no-prepare --processes web     # what the benchmarks start
    python scripts/serve.py --print-env                      # the settings it would use

Settings: the caller's environment wins; on top of it, MARKETPLACE_ENV=production and
DEBUG=0 always, and defaults for what production requires (a SECRET_KEY generated once
into var/serve-secret-key, ALLOWED_HOSTS=127.0.0.1,localhost) and for what this machine
lacks (e-mail to the console instead of SMTP; one search replica is impossible on a
single local node, so SEARCH_INDEX_REPLICAS=0; stripe-mock's test keys when
STRIPE_API_BASE points at it). DATABASE_URL (PostgreSQL) and REDIS_URL are required,
as in production.

Before starting (unless --no-prepare): migrate, collectstatic, with --demo load the demo
(populatedb, idempotent; it builds the search index) and make sure the search index
exists. Then honcho runs the three processes, prefixing their output; Ctrl-C (SIGINT) or
SIGTERM stops all of them, and when one exits the others are stopped too.
"""
from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROCFILE = ROOT / "Procfile"
SECRET_FILE = ROOT / "var" / "serve-secret-key"


def secret_key() -> str:
    """A random key kept in var/ (0600), so sessions and tokens survive restarts."""
    if not SECRET_FILE.exists():
        SECRET_FILE.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(SECRET_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    return SECRET_FILE.read_text().strip()


def production_env(base: dict, args) -> dict:
    env = dict(base)
    for name in ("CELERY_LOG_LEVEL", "CELERY_LOG_FILE", "CELERY_LOG_REDIRECT", "CELERY_LOG_REDIRECT_LEVEL"):
        env.pop(name, None)  # set by a Celery that ran in the calling process (e.g. a test worker): not ours
    env["MARKETPLACE_ENV"] = "production"
    env["DEBUG"] = "0"
    env["DJANGO_SETTINGS_MODULE"] = "marketplace.settings"
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    if not env.get("SECRET_KEY") or len(env["SECRET_KEY"]) < 32:
        env["SECRET_KEY"] = secret_key()
    env.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    env.setdefault("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
    if env.get("ELASTICSEARCH_URL"):
        env.setdefault("SEARCH_BACKEND", "elasticsearch")
        env.setdefault("SEARCH_INDEX_REPLICAS", "0")
    if env.get("STRIPE_API_BASE"):  # stripe-mock: any test key works
        env.setdefault("STRIPE_API_KEY", "sk_test_local_serve")
        env.setdefault("STRIPE_WEBHOOK_SECRET", "whsec_local_serve")
    if args.bind:
        env["GUNICORN_BIND"] = args.bind
    for name, value in (("WEB_CONCURRENCY", args.workers), ("GUNICORN_THREADS", args.threads),
                        ("GUNICORN_WORKER_CLASS", args.worker_class)):
        if value is not None:
            env[name] = str(value)
    if args.gunicorn_config:  # e.g. bench/gunicorn_gc.py, which builds on gunicorn.conf.py
        env["GUNICORN_CMD_ARGS"] = f"--config {args.gunicorn_config}"
    missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not env.get(name)]
    if missing:
        raise SystemExit(f"serve: {' and '.join(missing)} must be set, as in production "
                         "(`make serve` takes them from scripts/localservices.py)")
    return env


def manage(env, *words):
    subprocess.run([sys.executable, "manage.py", *words], cwd=ROOT, env=env, check=True)


def ensure_database(url):
    """Create the database DATABASE_URL names when it is missing (a local slot's database;
    production's is provisioned beforehand)."""
    from urllib.parse import urlsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = parts._replace(scheme="postgresql", path="/postgres").geturl()
    with psycopg.connect(maintenance, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            print(f"serve: creating database {name}", flush=True)
            conn.execute(f'CREATE DATABASE "{name}"')


def prepare(env, demo):
    ensure_database(env["DATABASE_URL"])
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    if demo:
        manage(env, "populatedb")
    if env.get("SEARCH_BACKEND") == "elasticsearch":
        status = subprocess.run([sys.executable, "manage.py", "search_index", "status"], cwd=ROOT, env=env,
                                capture_output=True, text=True)
        if status.returncode != 0 or "status: in sync" not in status.stdout:
            manage(env, "search_index", "rebuild")


def run(env, names) -> int:
    from honcho.environ import parse_procfile
    from honcho.manager import Manager

    procfile = parse_procfile(PROCFILE.read_text())
    unknown = set(names) - set(procfile.processes)
    if unknown:
        raise SystemExit(f"serve: no process type {', '.join(sorted(unknown))} in the Procfile")
    manager = Manager()
    for name in names:
        manager.add_process(name, procfile.processes[name], env=env, cwd=str(ROOT))
    manager.loop()
    return manager.returncode or 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bind", help="gunicorn's address (default: gunicorn.conf.py's, 127.0.0.1:$PORT or :8000)")
    parser.add_argument("--workers", type=int, help="gunicorn workers (WEB_CONCURRENCY, default 2)")
    parser.add_argument("--threads", type=int, help="threads per gthread worker (default 4)")
    parser.add_argument("--worker-class", choices=["gthread", "sync"])
    parser.add_argument("--gunicorn-config", help="another gunicorn config file instead of gunicorn.conf.py")
    parser.add_argument("--processes", default="web,worker,beat", help="which Procfile entries (default all)")
    parser.add_argument("--demo", action="store_true", help="load the demo data (populatedb) first")
    parser.add_argument("--no-prepare", action="store_true", help="skip migrate/collectstatic/search index")
    parser.add_argument("--print-env", action="store_true", help="print the settings and exit")
    args = parser.parse_args(argv)
    env = production_env(os.environ, args)
    if args.print_env:
        for name in sorted(env):
            if name.startswith(("MARKETPLACE_", "DATABASE", "REDIS", "CELERY", "SEARCH", "ELASTIC", "STRIPE_API_BASE",
                                "ALLOWED_HOSTS", "DEBUG", "GUNICORN", "WEB_CONCURRENCY", "EMAIL_BACKEND")):
                print(f"{name}={env[name]}")
        return 0
    if not args.no_prepare:
        try:
            prepare(env, args.demo)
        except subprocess.CalledProcessError as exc:
            raise SystemExit(f"serve: {' '.join(exc.cmd[1:])} failed (exit {exc.returncode})") from None
    return run(env, [name.strip() for name in args.processes.split(",") if name.strip()])


if __name__ == "__main__":
    sys.exit(main())
