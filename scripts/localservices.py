#!/usr/bin/env python3
"""Local services for development and CI, without Docker.

    python3 scripts/localservices.py start [postgres redis elasticsearch stripe]
    python3 scripts/localservices.py stop [names]
    python3 scripts/localservices.py status
    python3 scripts/localservices.py env        # `export NAME=value` lines, for eval

Each service runs as a detached process on loopback, with its data, logs and pid
files under $MARKETPLACE_SERVICES_DIR (default /var/tmp/marketplace-services), so
every checkout on the machine shares the same running services. `start` installs
what is missing (apt packages, the Maven-built Elasticsearch node, stripe-mock via
`go install`), is idempotent, and exits non-zero naming the service that failed.

Standard library only: this runs before any virtualenv exists. Importable too:
start(names), stop(names), status(), env().
"""

from __future__ import annotations

import fcntl
import glob
import hashlib
import http.client
import json
import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

HOST = "127.0.0.1"
PG_PORT = 54329
REDIS_PORT = 6390
ES_HTTP_PORT = 9201
ES_TRANSPORT_PORT = 9301
STRIPE_HTTP_PORT = 12111
STRIPE_HTTPS_PORT = 12112
STRIPE_MOCK_MODULE = "github.com/stripe/stripe-mock"
STRIPE_MOCK_VERSION = "v0.203.0"
ES_HEAP = ("-Xms512m", "-Xmx1g")

SERVICES = ("postgres", "redis", "elasticsearch", "stripe")
ENV_NAMES = {
    "postgres": "DATABASE_URL",
    "redis": "REDIS_URL",
    "elasticsearch": "ELASTICSEARCH_URL",
    "stripe": "STRIPE_API_BASE",
}
URLS = {
    "postgres": f"postgres://marketplace:marketplace@{HOST}:{PG_PORT}/marketplace",
    "redis": f"redis://{HOST}:{REDIS_PORT}/0",
    "elasticsearch": f"http://{HOST}:{ES_HTTP_PORT}",
    "stripe": f"http://{HOST}:{STRIPE_HTTP_PORT}",
}
ALIASES = {"pg": "postgres", "postgresql": "postgres", "es": "elasticsearch",
           "search": "elasticsearch", "stripe-mock": "stripe"}

REPO_ROOT = Path(__file__).resolve().parent.parent
SEARCH_NODE_DIR = REPO_ROOT / "search" / "node"
ES_MAIN_CLASS = "org.elasticsearch.node.LocalSearchNode"


class ServiceError(Exception):
    def __init__(self, service: str, message: str, log: Path | None = None):
        super().__init__(f"[{service}] {message}")
        self.service = service
        self.message = message
        self.log = log


# ---------------------------------------------------------------- helpers

_print_lock = threading.Lock()


def say(service: str, message: str) -> None:
    with _print_lock:
        print(f"[{service}] {message}", flush=True)


def state_dir() -> Path:
    return Path(os.environ.get("MARKETPLACE_SERVICES_DIR") or "/var/tmp/marketplace-services")


def logs_dir() -> Path:
    return state_dir() / "logs"


def pid_file(service: str) -> Path:
    return state_dir() / "pids" / f"{service}.pid"


def tail(path: Path | None, lines: int = 40) -> str:
    if not path or not path.exists():
        return ""
    with open(path, "rb") as f:
        try:
            f.seek(-64 * 1024, os.SEEK_END)
        except OSError:
            f.seek(0)
        data = f.read().decode("utf-8", "replace")
    return "\n".join(data.splitlines()[-lines:])


def is_root() -> bool:
    return os.geteuid() == 0


def base_env() -> dict:
    env = dict(os.environ)
    if not env.get("HOME"):
        env["HOME"] = pwd.getpwuid(os.geteuid()).pw_dir
    return env


def run_logged(service: str, cmd: list, log: Path, *, cwd=None, env=None, user=None,
               timeout: float = 1800, input_text: str | None = None, append: bool = False) -> None:
    """Run a command to completion, output to `log`; raise ServiceError on failure."""
    log.parent.mkdir(parents=True, exist_ok=True)
    kwargs = {}
    if user is not None:
        kwargs.update(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
    with open(log, "a" if append else "w") as out:
        out.write(f"$ {shlex.join(str(c) for c in cmd)}\n")
        out.flush()
        try:
            proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, stdout=out,
                                  stderr=subprocess.STDOUT, timeout=timeout,
                                  input=input_text, text=True if input_text is not None else None,
                                  stdin=None if input_text is not None else subprocess.DEVNULL,
                                  **kwargs)
        except FileNotFoundError as e:
            raise ServiceError(service, f"command not found: {e.filename}", log) from None
        except subprocess.TimeoutExpired:
            raise ServiceError(service, f"timed out after {timeout:.0f}s: {shlex.join(map(str, cmd))}", log) from None
    if proc.returncode != 0:
        raise ServiceError(service, f"exit code {proc.returncode}: {shlex.join(map(str, cmd))}", log)


def spawn(cmd: list, log: Path, *, cwd=None, env=None, user=None) -> subprocess.Popen:
    """Start a detached process (own session) whose output goes to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    kwargs = {}
    if user is not None:
        kwargs.update(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
    with open(log, "w") as out:
        return subprocess.Popen([str(c) for c in cmd], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                close_fds=True, **kwargs)


def port_open(port: int, timeout: float = 0.3) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=timeout):
            return True
    except OSError:
        return False


def http_get(port: int, path: str, headers: dict | None = None, timeout: float = 2.0):
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return False


def pid_cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def pid_listening_on(port: int) -> int | None:
    """Find the pid of the process listening on HOST:port (via /proc, no extra tools)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add(parts[9])
        except OSError:
            pass
    if not inodes:
        return None
    for fd in glob.glob("/proc/[0-9]*/fd/*"):
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            return int(fd.split("/")[2])
    return None


def wait_until(check, timeout: float, proc: subprocess.Popen | None = None, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return True
        except Exception:
            pass
        if proc is not None and proc.poll() is not None:
            return False  # it exited: it won't become healthy
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)


# ---------------------------------------------------------------- apt

_apt_lock = threading.Lock()
_apt_pending: set = set()


def apt_packages_installed(packages) -> bool:
    out = subprocess.run(["dpkg-query", "-W", "-f=${Status}\n", *packages],
                         capture_output=True, text=True)
    lines = out.stdout.splitlines()
    return len(lines) == len(packages) and all(line.endswith(" installed") for line in lines)


def apt_install(service: str, packages) -> None:
    """Install Debian packages. All packages queued by start() go in one apt-get call."""
    with _apt_lock:
        wanted = sorted(set(packages) | _apt_pending)
        _apt_pending.clear()
        if apt_packages_installed(wanted):
            return
        if not is_root():
            raise ServiceError(service, f"missing packages {' '.join(wanted)}: run as root or "
                                        f"`sudo apt-get install {' '.join(wanted)}`")
        log = logs_dir() / "apt-install.log"
        env = base_env()
        env["DEBIAN_FRONTEND"] = "noninteractive"
        install = ["apt-get", "install", "-y", "-q", "--no-install-recommends",
                   "-o", "Dpkg::Options::=--force-confold", *wanted]
        t0 = time.monotonic()
        lists = glob.glob("/var/lib/apt/lists/*_Packages*")
        if not lists:
            say(service, "apt-get update ...")
            run_logged(service, ["apt-get", "update", "-q"], log, env=env, append=False)
        say(service, f"apt-get install {' '.join(wanted)} ...")
        try:
            run_logged(service, install, log, env=env, append=True)
        except ServiceError:
            say(service, "apt-get install failed; running apt-get update and retrying")
            run_logged(service, ["apt-get", "update", "-q"], log, env=env, append=True)
            run_logged(service, install, log, env=env, append=True)
        say(service, f"installed {' '.join(wanted)} in {time.monotonic() - t0:.1f}s")


# ---------------------------------------------------------------- services

class Service:
    name = ""
    port = 0
    start_timeout = 60.0
    cmd_marker = ""  # substring of /proc/PID/cmdline identifying our process

    @property
    def url(self) -> str:
        return URLS[self.name]

    @property
    def log(self) -> Path:
        return logs_dir() / f"{self.name}.log"

    def healthy(self) -> bool:
        raise NotImplementedError

    def apt_packages_needed(self) -> list:
        return []

    def install(self) -> None:
        """Make sure binaries exist (may take long on a fresh machine)."""

    def launch(self) -> subprocess.Popen | None:
        raise NotImplementedError

    def after_start(self) -> None:
        """Post-start provisioning (roles, databases...)."""

    def after_reuse(self) -> None:
        """Checks when an already running instance is reused."""

    # pid bookkeeping
    def recorded_pid(self) -> int | None:
        try:
            pid = int(pid_file(self.name).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        if pid_alive(pid) and self.cmd_marker in pid_cmdline(pid):
            return pid
        return None

    def write_pid(self, pid: int) -> None:
        pid_file(self.name).parent.mkdir(parents=True, exist_ok=True)
        pid_file(self.name).write_text(f"{pid}\n")

    def live_pid(self) -> int | None:
        pid = self.recorded_pid()
        if pid:
            return pid
        pid = pid_listening_on(self.port)
        if pid and self.cmd_marker in pid_cmdline(pid):
            return pid
        return None

    def safe_healthy(self) -> bool:
        try:
            return bool(self.healthy())
        except Exception:
            return False

    # lifecycle
    def start(self) -> None:
        t0 = time.monotonic()
        if self.safe_healthy():
            self.after_reuse()
            say(self.name, f"already running at {self.url} (checked in {time.monotonic() - t0:.1f}s)")
            return
        pid = self.live_pid()
        if pid:
            say(self.name, f"process {pid} exists but is not healthy yet; waiting")
            if wait_until(self.safe_healthy, self.start_timeout):
                self.after_reuse()
                say(self.name, f"already running at {self.url} (became healthy after {time.monotonic() - t0:.1f}s)")
                return
            raise ServiceError(self.name, f"process {pid} did not become healthy; "
                                          f"try `localservices.py stop {self.name}`", self.log)
        if port_open(self.port):
            other = pid_listening_on(self.port)
            who = f"pid {other}: {pid_cmdline(other)[:120]}" if other else "unknown process"
            raise ServiceError(self.name, f"port {HOST}:{self.port} is taken by a process that is not a "
                                          f"healthy {self.name} ({who})")
        self.install()
        t1 = time.monotonic()
        proc = self.launch()
        if not wait_until(self.safe_healthy, self.start_timeout, proc=proc):
            if proc is not None and proc.poll() is not None:
                raise ServiceError(self.name, f"process exited with code {proc.returncode}", self.log)
            raise ServiceError(self.name, f"not healthy after {self.start_timeout:.0f}s", self.log)
        self.after_start()
        say(self.name, f"started in {time.monotonic() - t1:.1f}s at {self.url}")

    def stop_signal(self) -> int:
        return signal.SIGTERM

    def stop(self, timeout: float = 30.0) -> None:
        pid = self.live_pid()
        if not pid:
            if self.safe_healthy():
                raise ServiceError(self.name, f"is answering on port {self.port} but its process was not found")
            say(self.name, "not running")
            pid_file(self.name).unlink(missing_ok=True)
            return
        t0 = time.monotonic()
        os.kill(pid, self.stop_signal())
        if not wait_until(lambda: not pid_alive(pid), timeout):
            say(self.name, f"pid {pid} did not stop in {timeout:.0f}s; killing")
            os.kill(pid, signal.SIGKILL)
            wait_until(lambda: not pid_alive(pid), 10)
        pid_file(self.name).unlink(missing_ok=True)
        say(self.name, f"stopped (pid {pid}) in {time.monotonic() - t0:.1f}s")


class Postgres(Service):
    name = "postgres"
    port = PG_PORT
    start_timeout = 60.0
    cmd_marker = "postgres"
    settings = {
        "listen_addresses": HOST,
        "port": str(PG_PORT),
        "max_connections": "200",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        # The database search backend's tables and GIN indexes at 100k products are about
        # 250 MB; with 128 MB (PostgreSQL's default) its searches read pages from the OS
        # cache and bench/search.py's p95 rises from ~95 to ~110 ms.
        "shared_buffers": "512MB",
    }

    @property
    def root(self) -> Path:
        return state_dir() / "postgres"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @staticmethod
    def bindir() -> Path | None:
        needed = ("initdb", "postgres", "psql", "pg_isready")
        candidates = ["/usr/lib/postgresql/15/bin"]
        candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
        for tool in ("pg_ctl", "initdb"):
            found = shutil.which(tool)
            if found:
                candidates.append(str(Path(found).resolve().parent))
        for cand in candidates:
            if all((Path(cand) / t).exists() for t in needed):
                return Path(cand)
        return None

    def apt_packages_needed(self) -> list:
        return [] if self.bindir() else ["postgresql"]

    def run_user(self) -> pwd.struct_passwd | None:
        """Postgres refuses to run as root: use the `postgres` OS user."""
        if not is_root():
            return None
        try:
            return pwd.getpwnam("postgres")
        except KeyError:
            subprocess.run(["useradd", "--system", "--user-group", "--home-dir", "/var/lib/postgresql",
                            "--shell", "/bin/bash", "postgres"], check=True)
            return pwd.getpwnam("postgres")

    def healthy(self) -> bool:
        bindir = self.bindir()
        if bindir is None:
            return False
        return subprocess.run([str(bindir / "pg_isready"), "-q", "-h", HOST, "-p", str(PG_PORT),
                               "-U", "postgres", "-d", "postgres", "-t", "2"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode == 0

    def install(self) -> None:
        if self.bindir() is None:
            apt_install(self.name, ["postgresql"])
        if self.bindir() is None:
            raise ServiceError(self.name, "PostgreSQL binaries not found after installing `postgresql`")

    def pg_env(self) -> dict:
        return {"PATH": f"{self.bindir()}:/usr/local/bin:/usr/bin:/bin", "HOME": str(self.root),
                "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}

    def prepare_dirs(self, user) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "run").mkdir(exist_ok=True)
        if user is not None:
            for p in (self.root, self.root / "run"):
                os.chown(p, user.pw_uid, user.pw_gid)
            # every parent must be traversable by the postgres user
            for parent in self.root.parents:
                st = parent.stat()
                if not (st.st_mode & 0o001 or (st.st_uid == user.pw_uid and st.st_mode & 0o100)):
                    raise ServiceError(self.name, f"{parent} is not accessible to the postgres user; "
                                                  f"choose another MARKETPLACE_SERVICES_DIR")

    def launch(self) -> subprocess.Popen:
        user = self.run_user()
        self.prepare_dirs(user)
        bindir = self.bindir()
        if not (self.data / "PG_VERSION").exists():
            if self.data.exists():
                shutil.rmtree(self.data)  # a half-finished initdb
            t0 = time.monotonic()
            run_logged(self.name, [bindir / "initdb", "-D", self.data, "-U", "postgres", "-A", "trust",
                                   "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions"],
                       logs_dir() / "postgres-initdb.log", cwd=self.root, env=self.pg_env(), user=user)
            say(self.name, f"initdb in {time.monotonic() - t0:.1f}s")
        # a postmaster.pid left by a killed server whose pid now belongs to another process
        stale = self.data / "postmaster.pid"
        if stale.exists():
            try:
                old = int(stale.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                old = 0
            if not (pid_alive(old) and "postgres" in pid_cmdline(old)):
                stale.unlink()
                for lock in (self.root / "run").glob(".s.PGSQL.*"):
                    lock.unlink()
        cmd = [bindir / "postgres", "-D", self.data, "-k", self.root / "run"]
        for key, value in self.settings.items():
            cmd += ["-c", f"{key}={value}"]
        proc = spawn(cmd, self.log, cwd=self.root, env=self.pg_env(), user=user)
        self.write_pid(proc.pid)
        return proc

    def stop_signal(self) -> int:
        return signal.SIGINT  # "fast" shutdown

    def recorded_pid(self) -> int | None:
        pid = super().recorded_pid()
        if pid:
            return pid
        try:  # the server's own pid file
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        return pid if pid_alive(pid) and "postgres" in pid_cmdline(pid) else None

    def provision(self) -> None:
        sql = (
            "DO $$ BEGIN\n"
            "  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'marketplace') THEN\n"
            "    CREATE ROLE marketplace LOGIN SUPERUSER PASSWORD 'marketplace';\n"
            "  END IF;\n"
            "END $$;\n"
            "SELECT 'CREATE DATABASE marketplace OWNER marketplace'\n"
            "  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'marketplace')\\gexec\n"
        )
        run_logged(self.name, [self.bindir() / "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", HOST,
                               "-p", str(PG_PORT), "-U", "postgres", "-d", "postgres"],
                   logs_dir() / "postgres-provision.log", env=self.pg_env(), input_text=sql, timeout=60)

    def after_start(self) -> None:
        self.provision()

    def after_reuse(self) -> None:
        self.provision()


class Redis(Service):
    name = "redis"
    port = REDIS_PORT
    start_timeout = 20.0
    cmd_marker = "redis-server"

    @staticmethod
    def binary() -> str | None:
        return shutil.which("redis-server") or next(
            (p for p in ("/usr/bin/redis-server", "/usr/local/bin/redis-server") if os.path.exists(p)), None)

    def apt_packages_needed(self) -> list:
        return [] if self.binary() else ["redis-server"]

    def command(self, *words: str, timeout: float = 2.0) -> bytes:
        payload = f"*{len(words)}\r\n".encode() + b"".join(
            f"${len(w.encode())}\r\n{w}\r\n".encode() for w in words)
        with socket.create_connection((HOST, REDIS_PORT), timeout=timeout) as s:
            s.sendall(payload)
            return s.recv(1024)

    def healthy(self) -> bool:
        return self.command("PING").startswith(b"+PONG")

    def install(self) -> None:
        if not self.binary():
            apt_install(self.name, ["redis-server"])
        if not self.binary():
            raise ServiceError(self.name, "redis-server not found after installing `redis-server`")

    def launch(self) -> None:
        workdir = state_dir() / "redis"
        workdir.mkdir(parents=True, exist_ok=True)
        pid_file(self.name).parent.mkdir(parents=True, exist_ok=True)
        pid_file(self.name).unlink(missing_ok=True)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.log.write_text("")
        cmd = [self.binary(), "--bind", HOST, "--port", str(REDIS_PORT), "--daemonize", "yes",
               "--pidfile", pid_file(self.name), "--logfile", self.log, "--dir", workdir,
               "--save", "", "--appendonly", "no", "--protected-mode", "yes"]
        # --daemonize: this process forks the server and exits; its output only matters on failure
        run_logged(self.name, cmd, logs_dir() / "redis-launch.log", cwd=workdir, timeout=30)
        return None

    def stop(self, timeout: float = 30.0) -> None:
        if self.live_pid() is None and self.safe_healthy():
            try:  # a redis we have no pid for: ask it to stop
                self.command("SHUTDOWN", "NOSAVE")
            except OSError:
                pass
        super().stop(timeout)


class Elasticsearch(Service):
    name = "elasticsearch"
    port = ES_HTTP_PORT
    start_timeout = 120.0
    cmd_marker = ES_MAIN_CLASS

    @property
    def home(self) -> Path:
        return state_dir() / "elasticsearch"

    @staticmethod
    def java_home(need_javac: bool = False) -> Path | None:
        """Java 17 (what Elasticsearch 8.x is built for), else JAVA_HOME, else java on PATH."""
        candidates = sorted(glob.glob("/usr/lib/jvm/java-17-openjdk*"))
        if os.environ.get("JAVA_HOME"):
            candidates.append(os.environ["JAVA_HOME"])
        java = shutil.which("java")
        if java:
            candidates.append(str(Path(java).resolve().parent.parent))
        for cand in candidates:
            tools = ("java", "javac") if need_javac else ("java",)
            if all((Path(cand) / "bin" / t).exists() for t in tools):
                return Path(cand)
        return None

    @staticmethod
    def build_fingerprint() -> str:
        h = hashlib.sha256()
        files = [SEARCH_NODE_DIR / "pom.xml"] + sorted((SEARCH_NODE_DIR / "src").rglob("*"))
        for f in files:
            if f.is_file():
                h.update(str(f.relative_to(SEARCH_NODE_DIR)).encode())
                h.update(f.read_bytes())
        return h.hexdigest()[:16]

    # The runtime (compiled classes + dependency jars) is copied from the Maven build into
    # $STATE/elasticsearch/dist/<hash of pom.xml + src>: a fresh checkout of the same code (CI
    # clones into a new folder) reuses it without running Maven, and the running node never
    # depends on a checkout that may be deleted.
    def dist(self) -> Path:
        return self.home / "dist" / self.build_fingerprint()

    def dist_ready(self) -> bool:
        return (self.dist() / ".complete").exists()

    def apt_packages_needed(self) -> list:
        pkgs = []
        if not self.dist_ready():
            if self.java_home(need_javac=True) is None:
                pkgs.append("openjdk-17-jdk-headless")
            if shutil.which("mvn") is None:
                pkgs.append("maven")
        elif self.java_home() is None:
            pkgs.append("openjdk-17-jdk-headless")
        return pkgs

    def healthy(self) -> bool:
        status, body = http_get(ES_HTTP_PORT, "/_cluster/health")
        return status == 200 and json.loads(body).get("status") in ("green", "yellow")

    def after_reuse(self) -> None:
        """A running node may come from an older search/node (services outlive checkouts):
        when it lacks the analysis the mappings need (smartcn), say so and how to restart it."""
        conn = http.client.HTTPConnection(HOST, ES_HTTP_PORT, timeout=5)
        try:
            conn.request("POST", "/_analyze", json.dumps({"analyzer": "smartcn", "text": "刹车片"}),
                         {"Content-Type": "application/json"})
            response = conn.getresponse()
            body = response.read()
        except OSError:
            return
        finally:
            conn.close()
        if response.status != 200 and b"failed to find" in body:
            say(self.name, "WARNING: the running node was built from an older search/node (no smartcn analysis); "
                           "restart it to use this checkout's: localservices.py stop elasticsearch && "
                           "localservices.py start elasticsearch")

    def install(self) -> None:
        if not (SEARCH_NODE_DIR / "pom.xml").exists():
            raise ServiceError(self.name, f"{SEARCH_NODE_DIR}/pom.xml not found")
        missing = self.apt_packages_needed()
        if missing:
            apt_install(self.name, missing)
        if self.dist_ready():
            return
        target = SEARCH_NODE_DIR / "target"
        stamp = target / ".localservices-build"
        fingerprint = self.build_fingerprint()
        built = ((target / "search-node.jar").exists() and (target / "classes").is_dir()
                 and stamp.exists() and stamp.read_text().strip() == fingerprint)
        if not built:
            java_home = self.java_home(need_javac=True)
            mvn = shutil.which("mvn")
            if java_home is None or mvn is None:
                raise ServiceError(self.name, "a JDK 17 and Maven are needed to build search/node")
            t0 = time.monotonic()
            say(self.name, "building search/node (mvn package) ...")
            env = base_env()
            env["JAVA_HOME"] = str(java_home)
            run_logged(self.name, [mvn, "-q", "-B", "-DskipTests", "package"],
                       logs_dir() / "elasticsearch-build.log", cwd=SEARCH_NODE_DIR, env=env)
            stamp.write_text(fingerprint + "\n")
            say(self.name, f"built search/node in {time.monotonic() - t0:.1f}s")
        # Install the runtime into the state dir: our classes + the dependency jars that the
        # jar's manifest Class-Path lists (in the local Maven repository). Older builds go.
        with zipfile.ZipFile(target / "search-node.jar") as jar:
            manifest = jar.read("META-INF/MANIFEST.MF").decode("utf-8").replace("\r\n", "\n")
        manifest = manifest.replace("\n ", "")  # unfold continuation lines
        classpath = next((line.split(":", 1)[1].split() for line in manifest.splitlines()
                          if line.startswith("Class-Path:")), [])
        jars = [Path(entry) for entry in classpath]
        missing_jars = [str(j) for j in jars if not j.is_file()]
        if not jars or missing_jars:
            stamp.unlink(missing_ok=True)
            what = ", ".join(missing_jars[:3]) or "no Class-Path in the jar manifest"
            raise ServiceError(self.name, f"dependency jars missing ({what}); run start again to rebuild")
        dist = self.dist()
        staging = dist.with_name(dist.name + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(target / "classes", staging / "classes")
        (staging / "lib").mkdir()
        for j in jars:
            shutil.copy2(j, staging / "lib" / j.name)
        (staging / ".complete").write_text(fingerprint + "\n")
        for old in dist.parent.iterdir():
            if old != staging:
                shutil.rmtree(old, ignore_errors=True)
        staging.rename(dist)

    def launch(self) -> subprocess.Popen:
        (self.home / "tmp").mkdir(parents=True, exist_ok=True)
        dist = self.dist()
        cmd = [self.java_home() / "bin" / "java", *ES_HEAP,
               "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError", "-XX:-OmitStackTraceInFastThrow",
               "-Dfile.encoding=UTF-8", f"-Djava.io.tmpdir={self.home / 'tmp'}",
               "-cp", f"{dist / 'classes'}:{dist / 'lib'}/*",
               ES_MAIN_CLASS, "--home", self.home / "node",
               "--host", HOST, "--http-port", str(ES_HTTP_PORT), "--transport-port", str(ES_TRANSPORT_PORT)]
        proc = spawn(cmd, self.log, cwd=self.home, env=base_env())
        self.write_pid(proc.pid)
        return proc


class StripeMock(Service):
    name = "stripe"
    port = STRIPE_HTTP_PORT
    start_timeout = 30.0
    cmd_marker = "stripe-mock"

    @staticmethod
    def go() -> str | None:
        return shutil.which("go") or next(
            (p for p in ("/usr/local/go/bin/go", "/usr/lib/go/bin/go") if os.path.exists(p)), None)

    def binary(self) -> str | None:
        dirs = []
        if os.environ.get("GOBIN"):
            dirs.append(os.environ["GOBIN"])
        if os.environ.get("GOPATH"):
            dirs += [os.path.join(p, "bin") for p in os.environ["GOPATH"].split(os.pathsep) if p]
        dirs.append(os.path.join(base_env()["HOME"], "go", "bin"))
        for d in dirs:
            if os.path.exists(os.path.join(d, "stripe-mock")):
                return os.path.join(d, "stripe-mock")
        go = self.go()
        if go:  # the authoritative location, if GOPATH/GOBIN are set in go's own env file
            out = subprocess.run([go, "env", "GOBIN", "GOPATH"], capture_output=True, text=True, env=base_env())
            gobin, gopath = (out.stdout.splitlines() + ["", ""])[:2]
            for d in [gobin] + [os.path.join(p, "bin") for p in gopath.split(os.pathsep) if p]:
                if d and os.path.exists(os.path.join(d, "stripe-mock")):
                    return os.path.join(d, "stripe-mock")
        return shutil.which("stripe-mock")

    def healthy(self) -> bool:
        status, _ = http_get(STRIPE_HTTP_PORT, "/v1/charges", {"Authorization": "Bearer sk_test_123"})
        return status == 200

    def install(self) -> None:
        if self.binary():
            return
        go = self.go()
        if not go:
            raise ServiceError(self.name, "Go (1.22+) is needed to `go install` stripe-mock")
        t0 = time.monotonic()
        say(self.name, f"go install {STRIPE_MOCK_MODULE}@{STRIPE_MOCK_VERSION} ...")
        run_logged(self.name, [go, "install", f"{STRIPE_MOCK_MODULE}@{STRIPE_MOCK_VERSION}"],
                   logs_dir() / "stripe-install.log", env=base_env(), cwd=state_dir())
        if not self.binary():
            raise ServiceError(self.name, "stripe-mock binary not found after go install",
                               logs_dir() / "stripe-install.log")
        say(self.name, f"installed stripe-mock in {time.monotonic() - t0:.1f}s")

    def launch(self) -> subprocess.Popen:
        cmd = [self.binary(), "-http-addr", f"{HOST}:{STRIPE_HTTP_PORT}",
               "-https-addr", f"{HOST}:{STRIPE_HTTPS_PORT}"]
        proc = spawn(cmd, self.log, cwd=state_dir(), env=base_env())
        self.write_pid(proc.pid)
        return proc


REGISTRY = {s.name: s for s in (Postgres(), Redis(), Elasticsearch(), StripeMock())}


# ---------------------------------------------------------------- API

def _names(names) -> list:
    if not names:
        return list(SERVICES)
    if isinstance(names, str):
        names = [names]
    out = []
    for n in names:
        n = ALIASES.get(n.lower(), n.lower())
        if n not in REGISTRY:
            raise ValueError(f"unknown service {n!r}; choose from {', '.join(SERVICES)}")
        if n not in out:
            out.append(n)
    return out


class _StateLock:
    """Serialises start/stop between concurrent invocations (e.g. two checkouts)."""

    def __enter__(self):
        state_dir().mkdir(parents=True, exist_ok=True)
        try:  # the postgres user must be able to traverse it
            if state_dir().stat().st_uid == os.geteuid():
                os.chmod(state_dir(), 0o755)
        except OSError:
            pass
        self.f = open(state_dir() / ".lock", "w")
        fcntl.flock(self.f, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.f, fcntl.LOCK_UN)
        self.f.close()


def _report(err: ServiceError) -> None:
    with _print_lock:
        print(f"[{err.service}] FAILED: {err.message}", file=sys.stderr, flush=True)
        text = tail(err.log)
        if text:
            print(f"[{err.service}] last lines of {err.log}:", file=sys.stderr)
            for line in text.splitlines():
                print(f"[{err.service}]   {line}", file=sys.stderr)
            sys.stderr.flush()


def start(names=None) -> dict:
    """Start the named services (default: all); returns env(). Raises ServiceError."""
    names = _names(names)
    t0 = time.monotonic()
    with _StateLock():
        for d in ("logs", "pids"):
            (state_dir() / d).mkdir(parents=True, exist_ok=True)
        # queue every missing apt package so one `apt-get install` covers them all
        for n in names:
            svc = REGISTRY[n]
            if not svc.safe_healthy():
                _apt_pending.update(svc.apt_packages_needed())
        errors: list = []

        def worker(svc: Service) -> None:
            try:
                svc.start()
            except ServiceError as e:
                errors.append(e)
            except Exception as e:  # noqa: BLE001 - report anything with the service name
                errors.append(ServiceError(svc.name, f"{type(e).__name__}: {e}", svc.log))

        threads = [threading.Thread(target=worker, args=(REGISTRY[n],), name=n) for n in names]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    if errors:
        for e in errors:
            _report(e)
        failed = ", ".join(e.service for e in errors)
        raise ServiceError(failed, f"could not start: {failed}")
    print(f"[all] {', '.join(names)} ready in {time.monotonic() - t0:.1f}s", flush=True)
    return env()


def stop(names=None) -> None:
    names = _names(names)
    with _StateLock():
        errors = []

        def worker(svc):
            try:
                svc.stop()
            except ServiceError as e:
                errors.append(e)

        threads = [threading.Thread(target=worker, args=(REGISTRY[n],)) for n in names]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    if errors:
        for e in errors:
            _report(e)
        raise ServiceError(", ".join(e.service for e in errors), "could not stop")


def status() -> dict:
    """{name: {"running": bool, "url": str, "pid": int|None}}"""
    out = {}
    for n in SERVICES:
        svc = REGISTRY[n]
        running = svc.safe_healthy()
        out[n] = {"running": running, "url": svc.url, "pid": svc.live_pid() if running else None}
    return out


def env() -> dict:
    """The variables that point the engine at the services. With
    MARKETPLACE_SERVICES_SLOT=N (1-15) the database and the Redis database are N's own,
    so several test runs (e.g. in git worktrees) can share the running services without
    meeting: PostgreSQL database `marketplace_N` (tests: `test_marketplace_N`), Redis db N."""
    urls = dict(URLS)
    slot = os.environ.get("MARKETPLACE_SERVICES_SLOT", "").strip()
    if slot:
        if not slot.isdigit() or not 1 <= int(slot) <= 15:
            raise ValueError("MARKETPLACE_SERVICES_SLOT must be a number from 1 to 15")
        urls["postgres"] = f"{URLS['postgres']}_{slot}"
        urls["redis"] = f"redis://{HOST}:{REDIS_PORT}/{slot}"
    return {ENV_NAMES[n]: urls[n] for n in SERVICES}


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    usage = ("usage: localservices.py start|stop [postgres redis elasticsearch stripe] | status | env\n"
             f"state dir: {state_dir()} (set MARKETPLACE_SERVICES_DIR to change)")
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage)
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    try:
        if cmd == "start":
            start(rest)
        elif cmd == "stop":
            stop(rest)
        elif cmd == "status":
            if rest:
                print(usage, file=sys.stderr)
                return 2
            for n, st in status().items():
                state = "running" if st["running"] else "stopped"
                pid = f"  (pid {st['pid']})" if st["pid"] else ""
                print(f"{n:14} {state:8} {st['url']}{pid}")
        elif cmd == "env":
            for k, v in env().items():
                print(f"export {k}={shlex.quote(v)}")
        else:
            print(usage, file=sys.stderr)
            return 2
    except ServiceError as e:
        print(f"localservices: {cmd} failed for {e.service}: {e.message}", file=sys.stderr)
        return 1
    except ValueError as e:
        print(f"localservices: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
