"""The multi-host topology on one machine: PostgreSQL, Redis, two `matcher serve` hosts, nginx."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis
from sqlalchemy import make_url, text

from matcher.services.demo import load_demo_directory
from matcher.storage.database import Database

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "deploy" / "nginx" / "matcher.conf.template"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PLACEHOLDER = re.compile(r"\$\{MATCHER_[A-Z_]+\}")


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def empty_database(url: str) -> None:
    """Create the database if it is missing and empty it: the hosts migrate it as they start."""
    target = make_url(url)
    server = target.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(server, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (target.database,)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{target.database}"')
    db = Database(url)
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    db.close()


def load_directory(url: str) -> None:
    """Load the demo directory (2,400 profiles) into the database the hosts serve."""
    db = Database(url)
    with db.transaction() as session:
        load_demo_directory(session)
    db.close()


def reset_redis(url: str) -> None:
    """Empty the Redis database the hosts share (only that numbered database)."""
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


def render_template(**values: str) -> str:
    """deploy/nginx/matcher.conf.template with its ``${MATCHER_*}`` placeholders filled in."""
    rendered = string.Template(TEMPLATE.read_text()).safe_substitute(values)
    left = PLACEHOLDER.findall(rendered)
    assert not left, f"unfilled placeholders: {left}"
    return rendered


def _in_time(deadline: float, what: str, log: Path) -> None:
    """Fail with the tail of ``log`` once ``deadline`` has passed."""
    assert time.monotonic() < deadline, f"{what} did not start:\n{log.read_text()[-4000:]}"


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@dataclass
class Host:
    """One `matcher serve` process group with its own port and instance folder."""

    name: str
    port: int
    instance: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.instance.parent / f"host-{self.name}.log"

    @property
    def base(self) -> str:
        """The host's own address, bypassing nginx."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def address(self) -> str:
        """How nginx names the host in its log."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start `matcher serve` with two workers in a session of its own."""
        self.instance.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "matcher", "serve", "--port", str(self.port)]
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [*command, "--workers", "2"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**self.env, "MATCHER_INSTANCE_PATH": str(self.instance)},
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 120) -> None:
        """Wait until the host answers /readyz."""
        deadline = time.monotonic() + timeout
        while not _ready(f"{self.base}/readyz"):
            assert self.process is not None and self.process.poll() is None, self.log.read_text()
            _in_time(deadline, f"host {self.name}", self.log)
            time.sleep(0.3)

    def kill(self) -> None:
        """SIGKILL the whole host (gunicorn's master and its workers) at once, as a crash would."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop the host if it still runs (SIGTERM, then SIGKILL)."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=35)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@dataclass
class Nginx:
    """The local nginx, not a daemon, with every path of its own in ``root``."""

    root: Path
    port: int
    upstreams: tuple[str, str]
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        """nginx's address: the one clients use."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def access_log(self) -> Path:
        """nginx's access log (format ``matcher_upstreams`` of the template)."""
        return self.root / "access.log"

    @property
    def error_log(self) -> Path:
        """nginx's error log."""
        return self.root / "error.log"

    def write_config(self) -> Path:
        """The main nginx.conf around the project's template, and the filled-in template."""
        self.root.mkdir(parents=True, exist_ok=True)
        for temp in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.root / temp).mkdir(exist_ok=True)
        site = self.root / "matcher.conf"
        site.write_text(
            render_template(
                MATCHER_HOST_A=self.upstreams[0],
                MATCHER_HOST_B=self.upstreams[1],
                MATCHER_NGINX_LISTEN=f"127.0.0.1:{self.port}",
                MATCHER_NGINX_ACCESS_LOG=str(self.access_log),
            )
        )
        # As root, nginx's workers would switch to `nobody`, who cannot enter pytest's 0700 temp
        # folders; keep them as the user running the test.
        user = "user root root;\n" if os.geteuid() == 0 else ""
        main = self.root / "nginx.conf"
        main.write_text(
            f"{user}daemon off;\nworker_processes 1;\npid {self.root / 'nginx.pid'};\n"
            f"error_log {self.error_log} notice;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            f"    client_body_temp_path {self.root / 'client_body'};\n"
            f"    proxy_temp_path {self.root / 'proxy'};\n"
            f"    fastcgi_temp_path {self.root / 'fastcgi'};\n"
            f"    uwsgi_temp_path {self.root / 'uwsgi'};\n"
            f"    scgi_temp_path {self.root / 'scgi'};\n"
            f"    include {site};\n"
            "}\n"
        )
        return main

    def start(self) -> None:
        """Check the configuration, then run nginx as a child in the foreground."""
        main = self.write_config()
        prefix = ["-p", str(self.root), "-e", str(self.error_log), "-c", str(main)]
        checked = subprocess.run(
            [NGINX, *prefix, "-t", "-q"], capture_output=True, text=True, check=False
        )
        assert checked.returncode == 0, checked.stderr
        self.process = subprocess.Popen(
            [NGINX, *prefix],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while True:
            assert self.process.poll() is None, self.error_log.read_text()
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                _in_time(deadline, "nginx", self.error_log)
                time.sleep(0.1)

    def stop(self) -> None:
        """Stop nginx (SIGQUIT: graceful)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGQUIT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def log_line(self, request_id: str, timeout: float = 5) -> str:
        """The access-log line of the request nginx answered with ``X-Request-Id: request_id``."""
        deadline = time.monotonic() + timeout
        while True:  # nginx writes the line just after it has answered
            for line in self.access_log.read_text().splitlines():
                if f" {request_id} " in line:
                    return line
            assert time.monotonic() < deadline, f"no log line for {request_id}"
            time.sleep(0.05)


@dataclass
class Cluster:
    """Everything the topology test talks to."""

    database_url: str
    redis_url: str
    secret_key: str
    a: Host
    b: Host
    nginx: Nginx

    @property
    def hosts(self) -> tuple[Host, Host]:
        """Both matcher hosts."""
        return self.a, self.b


@contextmanager
def running(root: Path, database_url: str, redis_url: str) -> Iterator[Cluster]:
    """Empty PostgreSQL and Redis, start two hosts and nginx; stop them all afterwards.

    Both hosts start at once on the empty database, as two machines booted together would: they
    migrate it (one at a time) and store the default model. Then the demo directory is loaded.
    """
    empty_database(database_url)
    reset_redis(redis_url)
    secret_key = secrets.token_hex(32)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MATCHER_", "PYTEST_", "HYPOTHESIS_"))
    }
    env.update(
        PYTHONUNBUFFERED="1",
        MATCHER_DATABASE_URL=database_url,
        MATCHER_REDIS_URL=redis_url,
        MATCHER_SECRET_KEY=secret_key,
        MATCHER_PROXIES="1",  # nginx: the clients' addresses are the ones it forwards
        # Limits are sliding-window counters: over an hour, the test's bursts never straddle a
        # window's edge (where a per-minute count would let a few more through).
        MATCHER_LOGIN_RATE_LIMIT="10 per hour",
        # Every test client shares one address, and the revocation test polls a revoked key many
        # times: the per-address guard on unknown keys (tests/web/api/test_limits.py) is kept
        # out of the way here.
        MATCHER_FAILED_KEY_LIMIT="10000 per minute",
    )
    a = Host("a", free_port(), root / "instance-a", env)
    b = Host("b", free_port(), root / "instance-b", env)
    nginx = Nginx(root / "nginx", free_port(), (a.address, b.address))
    with ExitStack() as stack:
        for host in (a, b):
            stack.callback(host.stop)
            host.start()
        for host in (a, b):
            host.wait_ready()
        load_directory(database_url)
        stack.callback(nginx.stop)
        nginx.start()
        yield Cluster(database_url, redis_url, secret_key, a, b, nginx)
