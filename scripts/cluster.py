"""The bot scaled out on one machine: several Rasa servers and action servers behind nginx.

Rasa's own deployment model: any number of ``rasa run --enable-api`` replicas share the
conversations in PostgreSQL (``stores.tracker_store.PrivateSQLTrackerStore``) and the
conversation locks in Redis (``stores.lock_store.AtomicRedisLockStore``); any number of action
servers (``python -m actions.server``) sit behind them; nginx spreads the traffic, keeps
socket.io sessions on their replica and rate-limits the public webhooks. Nothing else is shared.

    python -m scripts.cluster run       # foreground; Ctrl-C stops everything it started
    python -m scripts.cluster start     # detached; starts whatever is not running, waits until
                                        # healthy; run again after a crash to restart what died
    python -m scripts.cluster status [--json]
    python -m scripts.cluster stop [--drop-database]

Settings come from the environment (see docs/deployment.md): RASA_REPLICAS, ACTION_REPLICAS,
CLUSTER_PORT, CLUSTER_HOST, CLUSTER_DIR, TRACKER_DB_URL, REDIS_URL, LOCK_KEY_PREFIX,
CLUSTER_RATE_LIMIT, CLUSTER_RATE_BURST, CLUSTER_CREDENTIALS, CLUSTER_MODEL, CLUSTER_RETENTION,
RASA_JWT_SECRET, ACTION_SERVER_TOKEN, BOT_ALLOWED_ORIGINS. Everything the cluster writes (its
endpoints file, the nginx configuration, logs, the state file ``cluster.json``) is under
CLUSTER_DIR (default ``var/cluster``); one cluster per directory.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import grp
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from scripts.processes import free_port, healthy

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TEMPLATE = ROOT / "deploy" / "nginx" / "cluster.conf.template"
SECRETS_FILE = ROOT / "var" / "secrets.env"
SECRET_NAMES = ("ACTION_SERVER_TOKEN", "RASA_JWT_SECRET")
STATE = "cluster.json"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
DEFAULT_DB_URL = "postgresql://postgres@127.0.0.1:5432/sciatica"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/1"
RATE = re.compile(r"^\d+r/[sm]$")


class ClusterError(RuntimeError):
    """Something the person starting the cluster has to fix; the message says what."""


# -- settings ---------------------------------------------------------------------------------


@dataclass
class Settings:
    rasa_replicas: int = 2
    action_replicas: int = 2
    host: str = "127.0.0.1"
    port: int = 8080
    dir: Path = ROOT / "var" / "cluster"
    db_url: str = DEFAULT_DB_URL
    redis_url: str = DEFAULT_REDIS_URL
    lock_prefix: str = ""
    rate: str = "2r/s"
    burst: int = 20
    credentials: Path = ROOT / "credentials.yml"
    model: Path = ROOT / "models" / "sciatica.tar.gz"
    retention: bool = True
    origins: list[str] = field(default_factory=list)
    start_timeout: float = 900.0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def database(self) -> dict[str, Any]:
        return parse_db_url(self.db_url)


def settings_from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Reads and checks the settings; a bad value is a ClusterError that names it."""
    env = os.environ if env is None else env

    def number(name: str, default: int, low: int = 1) -> int:
        raw = env.get(name) or str(default)
        try:
            value = int(raw)
        except ValueError as error:
            raise ClusterError(f"{name} must be a whole number, not {raw!r}") from error
        if value < low:
            raise ClusterError(f"{name} must be at least {low}, not {value}")
        return value

    def path(name: str, default: Path) -> Path:
        raw = env.get(name)
        return (ROOT / raw).resolve() if raw else default

    settings = Settings(
        rasa_replicas=number("RASA_REPLICAS", 2),
        action_replicas=number("ACTION_REPLICAS", 2),
        host=env.get("CLUSTER_HOST") or "127.0.0.1",
        port=number("CLUSTER_PORT", 8080),
        dir=path("CLUSTER_DIR", ROOT / "var" / "cluster"),
        db_url=env.get("TRACKER_DB_URL") or DEFAULT_DB_URL,
        redis_url=env.get("REDIS_URL") or DEFAULT_REDIS_URL,
        rate=env.get("CLUSTER_RATE_LIMIT") or "2r/s",
        burst=number("CLUSTER_RATE_BURST", 20, low=0),
        credentials=path("CLUSTER_CREDENTIALS", ROOT / "credentials.yml"),
        model=path("CLUSTER_MODEL", ROOT / "models" / "sciatica.tar.gz"),
        retention=(env.get("CLUSTER_RETENTION") or "1") not in {"0", "false", "no"},
        start_timeout=float(env.get("CLUSTER_START_TIMEOUT") or 900),
    )
    if not RATE.match(settings.rate):
        raise ClusterError(
            f"CLUSTER_RATE_LIMIT must look like 2r/s or 30r/m, not {settings.rate!r}"
        )
    database = settings.database
    settings.lock_prefix = env.get("LOCK_KEY_PREFIX") or database["db"]
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", settings.lock_prefix):
        raise ClusterError("LOCK_KEY_PREFIX may hold only letters, digits, '_', '.' and '-'")
    if not settings.redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ClusterError(f"REDIS_URL must be a redis:// URL, not {settings.redis_url!r}")
    origins = env.get("BOT_ALLOWED_ORIGINS") or (
        f"http://localhost:{settings.port},http://127.0.0.1:{settings.port}"
    )
    settings.origins = [o.strip() for o in origins.split(",") if o.strip()]
    return settings


def parse_db_url(url: str) -> dict[str, Any]:
    """The parts of a PostgreSQL URL (postgresql://user:password@host:port/database)."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgresql", "postgres", "postgresql+psycopg2"}:
        raise ClusterError(f"TRACKER_DB_URL must be a postgresql:// URL, not {url!r}")
    db = parts.path.lstrip("/")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", db or ""):
        raise ClusterError(
            "TRACKER_DB_URL must name a database made of letters, digits and '_' "
            f"(postgresql://postgres@127.0.0.1:5432/sciatica), not {db!r}"
        )
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "username": parts.username or "postgres",
        "password": parts.password or "",
        "db": db,
    }


def without_password(url: str) -> str:
    """A URL fit for logs and the state file."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.hostname or ""
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def load_secrets(env: dict[str, str], secrets_file: Path = SECRETS_FILE) -> None:
    """ACTION_SERVER_TOKEN and RASA_JWT_SECRET: the environment wins, then var/secrets.env
    (shared with ``make run``), else a new random value is kept there (readable by you only)."""
    kept: dict[str, str] = {}
    if secrets_file.exists():
        for line in secrets_file.read_text().splitlines():
            name, _, value = line.partition("=")
            if value:
                kept[name.strip()] = value.strip()
    for name in SECRET_NAMES:
        if env.get(name):
            continue
        if kept.get(name):
            env[name] = kept[name]
            continue
        secrets_file.parent.mkdir(parents=True, exist_ok=True)
        secrets_file.parent.chmod(0o700)
        env[name] = secrets.token_hex(32)
        with os.fdopen(
            os.open(secrets_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "a"
        ) as f:
            f.write(f"{name}={env[name]}\n")


# -- rendered configuration -------------------------------------------------------------------


def render_nginx(
    settings: Settings, rasa_ports: list[int], action_ports: list[int], lb_port: int
) -> str:
    """The nginx configuration from deploy/nginx/cluster.conf.template."""

    def servers(ports: list[int]) -> str:
        return "\n".join(
            f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=2s;" for port in ports
        )

    # As root, nginx hands its workers to an unprivileged user; they never touch the disk here.
    user = ""
    if os.geteuid() == 0:
        try:
            grp.getgrnam("nogroup")
            user = "user nobody nogroup;"
        except KeyError:
            user = "user nobody nobody;"
    values = {
        "user": user,
        "dir": str(settings.dir),
        "host": settings.host,
        "port": str(settings.port),
        "rate": settings.rate,
        "burst": str(settings.burst),
        "rasa_servers": servers(rasa_ports),
        "action_servers": servers(action_ports),
        "actions_port": str(lb_port),
    }
    text = TEMPLATE.read_text()
    for name, value in values.items():
        text = text.replace("{{ " + name + " }}", value)
    left = re.findall(r"\{\{ \w+ \}\}", text)
    if left:
        raise ClusterError(f"{TEMPLATE} has placeholders nobody fills: {', '.join(set(left))}")
    return text


def render_endpoints(settings: Settings, lb_port: int) -> str:
    """The endpoints file every Rasa replica of the cluster loads."""
    db = settings.database
    redis_url = without_password(settings.redis_url)
    lines = [
        f"# Written by scripts/cluster.py for the cluster in {settings.dir}; rewritten on start.",
        "# Any action server, through nginx; each checks the shared token.",
        "action_endpoint:",
        f"  url: http://127.0.0.1:{lb_port}/webhook",
        "  headers:",
        "    X-Action-Token: ${ACTION_SERVER_TOKEN}",
        "# Conversations in PostgreSQL (the password, if any, comes from PGPASSWORD).",
        "tracker_store:",
        "  type: stores.tracker_store.PrivateSQLTrackerStore",
        "  dialect: postgresql",
        f"  url: {db['host']}",
        f"  port: {db['port']}",
        f"  username: {db['username']}",
        f"  db: {db['db']}",
        "# Conversation locks in Redis, issued atomically across replicas.",
        "lock_store:",
        "  type: stores.lock_store.AtomicRedisLockStore",
        f"  url: {redis_url}",
        f"  key_prefix: {settings.lock_prefix}",
    ]
    if urlsplit(settings.redis_url).password:
        lines.append("  password: ${REDIS_PASSWORD}")
    return "\n".join(lines) + "\n"


# -- processes --------------------------------------------------------------------------------


@dataclass
class Proc:
    """One process of the cluster as recorded in the state file."""

    name: str
    port: int
    pid: int = 0
    log: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def health_url(self) -> str:
        if self.name.startswith("actions"):
            return f"{self.url}/health"
        if self.name == "nginx":
            return ""  # set by the caller (the public address)
        return f"{self.url}/"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "pid": self.pid,
            "port": self.port,
            "url": self.url,
            "log": self.log,
        }


def alive(pid: int, marker: str) -> bool:
    """The process exists, is not a zombie and its command line holds ``marker`` (a pid the
    system gave to somebody else since is never ours)."""
    if pid <= 0:
        return False
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    if status.rsplit(")", 1)[-1].split()[0] == "Z":
        return False
    return marker in cmdline


def marker_of(proc: Proc, settings: Settings) -> str:
    if proc.name == "nginx":
        return str(settings.dir / "nginx" / "nginx.conf")
    if proc.name == "retention":
        return str(settings.dir / "endpoints.yml")
    return f"--port {proc.port} "  # the command line ends each argument with a space here


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def child_env(settings: Settings, env: Mapping[str, str]) -> dict[str, str]:
    """The environment of every process of the cluster."""
    child = {**env, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    child["BOT_ALLOWED_ORIGINS"] = ",".join(settings.origins)
    password = settings.database["password"]
    if password:
        child["PGPASSWORD"] = password
    redis_password = urlsplit(settings.redis_url).password
    if redis_password:
        child["REDIS_PASSWORD"] = redis_password
    # Channels stay off until their variables are set, as in `make run`.
    text = settings.credentials.read_text() if settings.credentials.exists() else ""
    for name in re.findall(r"\$\{(\w+)\}", text):
        child.setdefault(name, "")
    return child


def command(proc: Proc, settings: Settings, env: Mapping[str, str]) -> list[str]:
    if proc.name.startswith("actions"):
        return [str(BIN / "python"), "-m", "actions.server", "--port", str(proc.port)]
    if proc.name.startswith("rasa"):
        # `rasa run` taking the JWT secret from RASA_JWT_SECRET (in child_env), so it is never on
        # a command line: every user of the machine can read those.
        return [
            str(BIN / "python"), "-m", "scripts.rasa_server", "run", "--enable-api",
            "--interface", "127.0.0.1", "--port", str(proc.port),
            "--model", str(settings.model),
            "--endpoints", str(settings.dir / "endpoints.yml"),
            "--credentials", str(settings.credentials),
            "--jwt-method", "HS256",
            "--cors", *settings.origins,
        ]  # fmt: skip
    if proc.name == "nginx":
        nginx_dir = settings.dir / "nginx"
        return [
            NGINX, "-p", str(nginx_dir), "-c", str(nginx_dir / "nginx.conf"),
            "-e", str(settings.dir / "logs" / "nginx-error.log"), "-g", "daemon off;",
        ]  # fmt: skip
    if proc.name == "retention":
        return [
            str(BIN / "python"), "-m", "stores.retention",
            "--endpoints", str(settings.dir / "endpoints.yml"), "--every", "24",
        ]  # fmt: skip
    raise ValueError(proc.name)


def spawn(proc: Proc, settings: Settings, env: Mapping[str, str]) -> subprocess.Popen:
    """Starts a process in its own session (Ctrl-C reaches only this script, which then stops
    them in order), output appended to its log."""
    log = settings.dir / "logs" / f"{proc.name}.log"
    proc.log = str(log)
    with log.open("a") as out:
        out.write(f"\n--- started {time.strftime('%Y-%m-%d %H:%M:%S')} ---\n")
        out.flush()
        process = subprocess.Popen(
            command(proc, settings, env),
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=child_env(settings, env),
            start_new_session=True,
        )
    proc.pid = process.pid
    return process


def terminate(proc: Proc, settings: Settings, timeout: float = 30) -> bool:
    """Stops one process (and anything it started) if it is still ours; True when it was running."""
    if not alive(proc.pid, marker_of(proc, settings)):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(proc.pid, os.WNOHANG)
        if not alive(proc.pid, marker_of(proc, settings)):
            return True
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(proc.pid, 0)
    return True


def tail(path: str, lines: int = 25) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# -- PostgreSQL and Redis ---------------------------------------------------------------------


def _connect_maintenance(settings: Settings) -> Any:
    import psycopg2

    db = settings.database
    try:
        connection = psycopg2.connect(
            host=db["host"],
            port=db["port"],
            user=db["username"],
            password=db["password"] or None,
            dbname="postgres",
            connect_timeout=5,
        )
    except psycopg2.OperationalError as error:
        raise ClusterError(
            f"Cannot reach PostgreSQL at {without_password(settings.db_url)}: "
            f"{str(error).strip()}\nSee docs/deployment.md for how to get PostgreSQL."
        ) from error
    connection.autocommit = True
    return connection


def ensure_database(settings: Settings) -> bool:
    """Creates the tracker database if it is missing; True when it was created."""
    from psycopg2 import errors, sql

    name = settings.database["db"]
    connection = _connect_maintenance(settings)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cursor.fetchone():
                return False
            try:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            except errors.DuplicateDatabase:
                return False
            return True
    finally:
        connection.close()


def drop_database(settings: Settings) -> None:
    from psycopg2 import sql

    connection = _connect_maintenance(settings)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(settings.database["db"])
                )
            )
    finally:
        connection.close()


def check_redis(settings: Settings) -> None:
    import redis

    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=3, socket_timeout=3)
    try:
        client.ping()
    except redis.exceptions.RedisError as error:
        raise ClusterError(
            f"Cannot reach Redis at {without_password(settings.redis_url)}: {error}\n"
            "See docs/deployment.md for how to get Redis."
        ) from error
    finally:
        client.close()


def drop_locks(settings: Settings) -> int:
    import redis

    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=3, socket_timeout=3)
    try:
        keys = list(client.scan_iter(match=f"{settings.lock_prefix}:lock:*", count=500))
        return int(client.delete(*keys)) if keys else 0
    finally:
        client.close()


# -- the cluster ------------------------------------------------------------------------------


class Cluster:
    """The processes of one cluster directory, started and stopped from its state file."""

    def __init__(self, settings: Settings, env: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self.env = dict(os.environ if env is None else env)
        self.state_path = settings.dir / STATE
        self.started: dict[str, subprocess.Popen] = {}

    # state

    def read_state(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return None

    def write_state(self, procs: dict[str, Proc], lb_port: int) -> dict[str, Any]:
        s = self.settings
        state = {
            "url": s.url,
            "rasa": [procs[n].as_dict() for n in sorted(procs) if n.startswith("rasa")],
            "actions": [procs[n].as_dict() for n in sorted(procs) if n.startswith("actions")],
            "nginx": {**procs["nginx"].as_dict(), "log": str(s.dir / "logs" / "nginx-error.log")},
            "retention": procs["retention"].as_dict() if "retention" in procs else None,
            "actions_url": f"http://127.0.0.1:{lb_port}/webhook",
            "actions_balancer_port": lb_port,
            "database": without_password(s.db_url),
            "redis": without_password(s.redis_url),
            "lock_key_prefix": s.lock_prefix,
            "dir": str(s.dir),
        }
        temporary = self.state_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(state, indent=2) + "\n")
        temporary.replace(self.state_path)
        return state

    def recorded(self) -> tuple[dict[str, Proc], int | None]:
        state = self.read_state() or {}
        procs: dict[str, Proc] = {}
        for item in [*state.get("rasa", []), *state.get("actions", [])]:
            procs[item["name"]] = Proc(item["name"], item["port"], item["pid"], item.get("log", ""))
        for name in ("nginx", "retention"):
            item = state.get(name)
            if item:
                procs[name] = Proc(name, item["port"], item["pid"], item.get("log", ""))
        return procs, state.get("actions_balancer_port")

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """One start or stop at a time per cluster directory."""
        self.settings.dir.mkdir(parents=True, exist_ok=True)
        with (self.settings.dir / ".lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    # start

    def start(self, say: Any = print) -> dict[str, Any]:
        s = self.settings
        if not s.model.exists():
            raise ClusterError(f"No trained model at {s.model}: run `make train` first.")
        if not TEMPLATE.exists():
            raise ClusterError(f"The nginx template {TEMPLATE} is missing.")
        load_secrets(self.env)
        with self.locked():
            for sub in ("logs", "nginx/tmp"):
                (s.dir / sub).mkdir(parents=True, exist_ok=True)
            if ensure_database(s):
                say(f"Created the tracker database {s.database['db']}.")
            check_redis(s)
            procs, lb_port = self.recorded()
            wanted = (
                [f"actions-{i}" for i in range(s.action_replicas)]
                + [f"rasa-{i}" for i in range(s.rasa_replicas)]
                + ["nginx"]
                + (["retention"] if s.retention else [])
            )
            # Processes of a previous, larger cluster go first.
            for name in [n for n in procs if n not in wanted]:
                if terminate(procs.pop(name), s):
                    say(f"Stopped {name} (no longer wanted).")
            running = {name for name, proc in procs.items() if alive(proc.pid, marker_of(proc, s))}
            taken = {proc.port for name, proc in procs.items() if name in running}
            if lb_port is None or ("nginx" not in running and not port_free(lb_port)):
                lb_port = free_port()
            for name in wanted:
                if name in running:
                    continue
                old = procs.get(name)
                if name == "nginx":
                    port = s.port
                    if not port_free(port, s.host):
                        raise ClusterError(
                            f"Port {s.host}:{port} is in use: set CLUSTER_PORT to a free port."
                        )
                elif name == "retention":
                    port = 0
                elif old and old.port not in taken and port_free(old.port):
                    port = old.port
                else:
                    port = free_port()
                    while port in taken or port in (lb_port, s.port):
                        port = free_port()
                taken.add(port)
                procs[name] = Proc(name, port)
            rasa_ports = [procs[n].port for n in wanted if n.startswith("rasa")]
            action_ports = [procs[n].port for n in wanted if n.startswith("actions")]
            conf = render_nginx(s, rasa_ports, action_ports, lb_port)
            conf_path = s.dir / "nginx" / "nginx.conf"
            conf_changed = not conf_path.exists() or conf_path.read_text() != conf
            conf_path.write_text(conf)
            (s.dir / "endpoints.yml").write_text(render_endpoints(s, lb_port))
            self._check_nginx_conf(conf_path)
            if "nginx" in running and conf_changed:
                os.kill(procs["nginx"].pid, signal.SIGHUP)  # reload with the new upstreams
                say("Reloaded nginx with the new upstreams.")
            try:
                # Action servers first (Rasa calls them), nginx before Rasa (it waits for nobody).
                for name in wanted:
                    if name not in running:
                        self.started[name] = spawn(procs[name], s, self.env)
                        say(f"Starting {name} (log: {procs[name].log})")
                state = self.write_state(procs, lb_port)
                self._wait(procs, [n for n in wanted if n not in running])
            except BaseException:
                # Stop what this call started; what was already running stays as it was.
                for name in reversed(list(self.started)):
                    terminate(procs[name], s)
                self.started.clear()
                if "nginx" in running:
                    self.write_state({n: p for n, p in procs.items() if n in running}, lb_port)
                else:
                    for name in running:
                        terminate(procs[name], s)
                    with contextlib.suppress(FileNotFoundError):
                        self.state_path.unlink()
                raise
        return state

    def _check_nginx_conf(self, conf_path: Path) -> None:
        s = self.settings
        result = subprocess.run(
            [
                NGINX,
                "-t",
                "-q",
                "-p",
                str(s.dir / "nginx"),
                "-c",
                str(conf_path),
                "-e",
                str(s.dir / "logs" / "nginx-error.log"),
            ],  # fmt: skip
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise ClusterError(f"nginx refuses the configuration:\n{result.stderr.strip()}")

    def _wait(self, procs: dict[str, Proc], names: list[str]) -> None:
        s = self.settings
        pending = {n for n in names if n != "retention"}
        deadline = time.monotonic() + s.start_timeout
        while pending:
            for name in sorted(pending):
                proc = procs[name]
                popen = self.started.get(name)
                if popen is not None and popen.poll() is not None:
                    raise ClusterError(f"{name} stopped while starting:\n{tail(proc.log)}")
                url = f"{s.url}/healthz" if name == "nginx" else proc.health_url
                if healthy(url):
                    pending.discard(name)
            if pending and time.monotonic() > deadline:
                names_left = ", ".join(sorted(pending))
                raise ClusterError(f"Not healthy after {s.start_timeout:.0f}s: {names_left}")
            if pending:
                time.sleep(1)

    # stop and status

    def stop(self, drop: bool = False, say: Any = print) -> None:
        s = self.settings
        with self.locked():
            procs, _ = self.recorded()
            order = ["nginx", "retention"]
            order += sorted(n for n in procs if n.startswith("rasa"))
            order += sorted(n for n in procs if n.startswith("actions"))
            for name in order:
                if name in procs and terminate(procs[name], s):
                    say(f"Stopped {name}.")
            with contextlib.suppress(FileNotFoundError):
                self.state_path.unlink()
            if drop:
                drop_database(s)
                dropped = drop_locks(s)
                say(f"Dropped the database {s.database['db']} and {dropped} lock key(s).")

    def status(self) -> dict[str, Any] | None:
        s = self.settings
        state = self.read_state()
        if state is None:
            return None
        report = dict(state)
        all_ok = True
        for group in ("rasa", "actions"):
            report[group] = []
            for item in state[group]:
                proc = Proc(item["name"], item["port"], item["pid"], item.get("log", ""))
                ok = alive(proc.pid, marker_of(proc, s)) and healthy(proc.health_url)
                all_ok &= ok
                report[group].append({**item, "healthy": ok})
        nginx = Proc("nginx", state["nginx"]["port"], state["nginx"]["pid"])
        ok = alive(nginx.pid, marker_of(nginx, s)) and healthy(f"{state['url']}/healthz")
        all_ok &= ok
        report["nginx"] = {**state["nginx"], "healthy": ok}
        if state.get("retention"):
            item = state["retention"]
            ok = alive(item["pid"], marker_of(Proc("retention", 0), s))
            report["retention"] = {**item, "healthy": ok}
            all_ok &= ok
        report["healthy"] = all_ok
        return report

    def supervise(self, say: Any = print) -> None:
        """Foreground mode: report processes that stop; return on Ctrl-C or SIGTERM."""
        stopping = False

        def request_stop(_signum: int, _frame: Any) -> None:
            nonlocal stopping
            stopping = True

        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, request_stop)
        reported: set[str] = set()
        while not stopping:
            for name, popen in self.started.items():
                if name not in reported and popen.poll() is not None:
                    reported.add(name)
                    say(
                        f"{name} stopped (exit {popen.returncode}); the others carry on. "
                        "`python -m scripts.cluster start` in another terminal restarts it."
                    )
            time.sleep(0.5)


def print_status(report: dict[str, Any] | None) -> int:
    if report is None:
        print("No cluster is running here (no state file).")
        return 3
    print(f"Cluster at {report['url']}  ({'healthy' if report['healthy'] else 'NOT healthy'})")
    for item in [*report["rasa"], *report["actions"], report["nginx"]]:
        mark = "up  " if item["healthy"] else "DOWN"
        print(
            f"  {mark} {item['name']:<10} pid {item['pid']:<7} port {item['port']:<6} {item['log']}"
        )
    print(f"  tracker store {report['database']}, lock store {report['redis']}")
    return 0 if report["healthy"] else 1


def ready_message(state: dict[str, Any]) -> str:
    url = state["url"]
    return (
        f"\nThe bot is ready on {len(state['rasa'])} Rasa server(s) and "
        f"{len(state['actions'])} action server(s) behind nginx.\n"
        f"  Chat in the browser: {url}/chat/\n"
        f'  REST: curl -s {url}/webhooks/rest/webhook -d \'{{"sender":"me","message":"hi"}}\'\n'
        f"  HTTP API token: RASA_JWT_SECRET=... python -m scripts.api_token --role admin\n"
        f"  Logs: {state['dir']}/logs/\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start in the foreground; Ctrl-C stops everything")
    sub.add_parser("start", help="start detached (only what is not running) and wait until healthy")
    stop = sub.add_parser("stop", help="stop every process of the cluster")
    stop.add_argument(
        "--drop-database",
        action="store_true",
        help="also drop the tracker database and the lock keys",
    )
    status = sub.add_parser(
        "status", help="is every process up and healthy? (exit 0/1, 3: not started)"
    )
    status.add_argument("--json", action="store_true", help="print the state as JSON")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    try:
        settings = settings_from_env()
        cluster = Cluster(settings)
        if args.command == "status":
            report = cluster.status()
            if args.json:
                print(json.dumps(report, indent=2))
                return 3 if report is None else (0 if report["healthy"] else 1)
            return print_status(report)
        if args.command == "stop":
            cluster.stop(drop=args.drop_database)
            return 0
        if args.command == "start":
            state = cluster.start()
            print(ready_message(state), end="")
            print(f"Cluster ready: {state['url']}")
            return 0
        # run: in the foreground until Ctrl-C (a failed start has already cleaned up)
        state = cluster.start()
        try:
            print(ready_message(state) + "Press Ctrl-C to stop.", flush=True)
            print(f"Cluster ready: {state['url']}", flush=True)
            cluster.supervise()
        finally:
            print("\nStopping the cluster...", flush=True)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            cluster.stop()
        return 0
    except ClusterError as error:
        print(f"cluster: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
