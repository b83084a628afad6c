"""`make serve` (scripts/serve.py): the production layout on this machine (issue 16).
gunicorn, a Celery worker and beat start with MARKETPLACE_ENV=production against
PostgreSQL and Redis; a client registers, receives the confirmation e-mail (sent by the
worker), confirms, signs in; static files come from the app server; DEBUG is off; and one
signal stops every process."""
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from django.conf import settings

from tests.conftest import unavailable

ROOT = Path(__file__).resolve().parent.parent
REGISTER = """mutation($e: String!) { accountRegister(input: {email: $e, password: "Corolla-2026-brakes"}) {
  requiresConfirmation errors { field code } } }"""
CONFIRM = "mutation($t: String!) { accountConfirm(token: $t) { user { email } errors { field code } } }"
LOGIN = """mutation($e: String!) { tokenCreate(email: $e, password: "Corolla-2026-brakes") {
  accessToken errors { code } } }"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Http:
    def __init__(self, port):
        self.port = port

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body, headers or {})
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def gql(self, query, variables=None, token=None):
        headers = {"Content-Type": "application/json", "Host": "localhost"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        status, _headers, body = self.request("POST", "/graphql/", json.dumps({"query": query, "variables": variables}),
                                              headers)
        assert status == 200, body[:500]
        data = json.loads(body)
        assert "errors" not in data, data
        (payload,) = data["data"].values()
        return payload


def wait_until(condition, timeout, proc, log, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited ({proc.returncode}) before {what}:\n{log.read_text()[-4000:]}")
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}:\n{log.read_text()[-4000:]}")


@pytest.fixture
def serve_env(tmp_path):
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")) or not os.environ.get("REDIS_URL"):
        unavailable("make serve needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)",
                    "make serve needs PostgreSQL and Redis, which CI always has")
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"{base}_serve",  # its own database, next to the suite's
        CELERY_TASK_DEFAULT_QUEUE=f"serve-test-{uuid.uuid4().hex[:8]}",  # away from the suite's worker thread
        STATIC_ROOT=str(tmp_path / "static"),
        BEAT_SCHEDULE_FILE=str(tmp_path / "beat-schedule"),
        CACHE_KEY_PREFIX=f"serve-test-{uuid.uuid4().hex[:8]}",
        LOG_LEVEL="INFO",
    )
    env.pop("DEBUG", None)
    return env


@pytest.mark.skipif(sys.platform != "linux", reason="process groups")
def test_make_serve_runs_web_worker_and_beat_as_production(serve_env, tmp_path):
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "scripts/serve.py", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                                 "--threads", "2"], cwd=ROOT, env=serve_env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    client = Http(port)
    try:
        def healthy():
            try:
                return client.request("GET", "/health/", headers={"Host": "localhost"})[0] == 200
            except OSError:
                return False

        wait_until(healthy, 180, proc, log, "gunicorn to answer")
        wait_until(lambda: "celery@" in log.read_text() and "ready." in log.read_text(), 60, proc, log,
                   "the Celery worker")
        wait_until(lambda: "beat: Starting" in log.read_text(), 60, proc, log, "Celery beat")
        assert client.gql("{ __typename }") == "Query"

        # Production settings: DEBUG off (no debug page), no GraphiQL, unknown hosts refused.
        status, _h, body = client.request("GET", "/no-such-page/", headers={"Host": "localhost"})
        assert status == 404 and b"DEBUG = True" not in body and b"Traceback" not in body
        status, _h, body = client.request("GET", "/graphql/", headers={"Host": "localhost", "Accept": "text/html"})
        assert b"graphiql" not in body.lower()
        assert client.request("GET", "/health/", headers={"Host": "evil.example"})[0] == 400
        # Static files from the app server itself (collectstatic's hashed copies, cached for ever).
        status, headers, body = client.request("GET", "/admin/login/", headers={"Host": "localhost"})
        assert status == 200
        css = re.search(rb'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', body).group(1).decode()
        status, headers, _body = client.request("GET", css, headers={"Host": "localhost"})
        assert status == 200 and "immutable" in headers.get("Cache-Control", "")

        # A member registers: the confirmation e-mail is sent by the Celery worker.
        email = f"serve-{uuid.uuid4().hex[:10]}@example.com"
        assert client.gql(REGISTER, {"e": email}) == {"requiresConfirmation": True, "errors": []}
        def mailed_token():  # the console e-mail backend prints into the worker's output
            for line in log.read_text().splitlines():
                link = re.search(r"^\S+ worker +\| .*/account/confirm\?(\S+)", line)
                query = parse_qs(link.group(1)) if link else {}
                if query.get("email") == [email]:
                    return query["token"][0]
            return None

        token = wait_until(mailed_token, 60, proc, log, "the confirmation e-mail from the worker")
        assert client.gql(CONFIRM, {"t": token}) == {"user": {"email": email}, "errors": []}
        signed_in = client.gql(LOGIN, {"e": email})
        assert signed_in["errors"] == [] and signed_in["accessToken"]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # serve.py (honcho) stops web, worker and beat
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    text = log.read_text()
    for name in ("web", "worker", "beat"):
        assert re.search(rf"system \| {name} stopped", text), text[-3000:]
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
