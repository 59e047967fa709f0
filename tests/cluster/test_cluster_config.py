"""What scripts/cluster.py writes, and the Kubernetes values, checked without starting anything
(nginx itself checks the rendered configuration)."""

from __future__ import annotations

import importlib
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from scripts import cluster
from scripts.cluster import ClusterError, Settings, settings_from_env
from scripts.rasa_server import rasa_arguments

ROOT = Path(__file__).resolve().parents[2]
HELM = ROOT / "deploy" / "helm"


def settings(tmp_path: Path, **env: str) -> Settings:
    return settings_from_env({"CLUSTER_DIR": str(tmp_path), **env})


@pytest.mark.cluster  # runs the nginx binary, a dependency of the scaled setup only
def test_the_nginx_configuration_is_valid_and_does_what_the_docs_say(tmp_path: Path) -> None:
    s = settings(tmp_path, CLUSTER_PORT="18123", CLUSTER_RATE_LIMIT="5r/s", CLUSTER_RATE_BURST="7")
    conf = cluster.render_nginx(s, [41001, 41002], [42001, 42002], 43001)
    for sub in ("logs", "nginx/tmp"):
        (tmp_path / sub).mkdir(parents=True)
    conf_path = tmp_path / "nginx" / "nginx.conf"
    conf_path.write_text(conf)
    checked = subprocess.run(
        [
            cluster.NGINX,
            "-t",
            "-p",
            str(tmp_path / "nginx"),
            "-c",
            str(conf_path),
            "-e",
            str(tmp_path / "logs" / "nginx-error.log"),
        ],  # fmt: skip
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr

    webhooks = conf.split("location /webhooks/ {", 1)[1].split("}", 1)[0]
    assert "limit_req zone=webhooks burst=7 nodelay;" in webhooks
    assert "rate=5r/s" in conf and "limit_req_status 429;" in conf
    sticky = conf.split("upstream rasa_sticky {", 1)[1].split("}", 1)[0]
    assert "hash $remote_addr consistent;" in sticky
    assert "127.0.0.1:41001" in sticky and "127.0.0.1:41002" in sticky
    socket_io = conf.split("location /socket.io/ {", 1)[1].split("}", 1)[0]
    assert "proxy_pass http://rasa_sticky;" in socket_io and "Upgrade" in socket_io
    actions = conf.split("upstream actions {", 1)[1].split("}", 1)[0]
    assert "127.0.0.1:42001" in actions and "127.0.0.1:42002" in actions
    assert "listen 127.0.0.1:43001;" in conf and "listen 127.0.0.1:18123;" in conf


def test_the_replicas_share_postgresql_and_redis_and_keep_passwords_out_of_the_file(
    tmp_path: Path,
) -> None:
    s = settings(
        tmp_path,
        TRACKER_DB_URL="postgresql://bot:db-secret@db.internal:5433/conversations",
        REDIS_URL="redis://:redis-secret@cache.internal:6380/2",
    )
    text = cluster.render_endpoints(s, 43001)
    assert "db-secret" not in text and "redis-secret" not in text
    endpoints = yaml.safe_load(text)
    tracker = endpoints["tracker_store"]
    assert tracker["type"] == "stores.tracker_store.PrivateSQLTrackerStore"
    assert (tracker["dialect"], tracker["url"], tracker["port"], tracker["db"]) == (
        "postgresql",
        "db.internal",
        5433,
        "conversations",
    )
    lock = endpoints["lock_store"]
    assert lock["type"] == "stores.lock_store.AtomicRedisLockStore"
    assert lock["url"] == "redis://cache.internal:6380/2"
    assert lock["password"] == "${REDIS_PASSWORD}"
    assert lock["key_prefix"] == "conversations"  # the database names the lock namespace
    assert endpoints["action_endpoint"]["headers"] == {"X-Action-Token": "${ACTION_SERVER_TOKEN}"}
    child = cluster.child_env(s, {})
    assert child["PGPASSWORD"] == "db-secret" and child["REDIS_PASSWORD"] == "redis-secret"
    state_url = cluster.without_password(s.db_url)
    assert state_url == "postgresql://bot@db.internal:5433/conversations"


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("CLUSTER_RATE_LIMIT", "lots", "CLUSTER_RATE_LIMIT"),
        ("RASA_REPLICAS", "0", "RASA_REPLICAS"),
        ("TRACKER_DB_URL", "mysql://x@y/z", "TRACKER_DB_URL"),
        ("TRACKER_DB_URL", "postgresql://x@y/bad-name", "TRACKER_DB_URL"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL"),
    ],
)
def test_a_bad_setting_is_refused_with_its_name(
    tmp_path: Path, name: str, value: str, says: str
) -> None:
    with pytest.raises(ClusterError, match=says):
        settings(tmp_path, **{name: value})


def test_secrets_come_from_the_environment_then_the_local_file(tmp_path: Path) -> None:
    secrets_file = tmp_path / "var" / "secrets.env"
    env = {"RASA_JWT_SECRET": "from-env"}
    cluster.load_secrets(env, secrets_file)
    assert env["RASA_JWT_SECRET"] == "from-env"
    generated = env["ACTION_SERVER_TOKEN"]
    assert len(generated) == 64
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    again: dict[str, str] = {}
    cluster.load_secrets(again, secrets_file)
    assert again["ACTION_SERVER_TOKEN"] == generated  # `make run` and the cluster agree
    assert "from-env" not in secrets_file.read_text()


def test_replicas_get_their_secrets_by_environment_never_on_the_command_line(
    tmp_path: Path,
) -> None:
    s = settings(tmp_path, TRACKER_DB_URL="postgresql://bot:db-secret@127.0.0.1:5432/sciatica")
    env = {"RASA_JWT_SECRET": "jwt-" + "a" * 60, "ACTION_SERVER_TOKEN": "act-" + "b" * 60}
    for name in ("rasa-0", "actions-0", "retention", "nginx"):
        argv = cluster.command(cluster.Proc(name, 5005), s, env)
        for secret in (*env.values(), "db-secret"):
            assert not any(secret in arg for arg in argv), (name, secret)
    child = cluster.child_env(s, env)
    assert child["RASA_JWT_SECRET"] == env["RASA_JWT_SECRET"]
    assert child["ACTION_SERVER_TOKEN"] == env["ACTION_SERVER_TOKEN"]
    # The replica's launcher hands the secret to Rasa inside the process.
    rasa = cluster.command(cluster.Proc("rasa-0", 5005), s, env)
    assert rasa[1:3] == ["-m", "scripts.rasa_server"]
    assert rasa_arguments(rasa[3:], child)[-2:] == ["--jwt-secret", env["RASA_JWT_SECRET"]]


def test_the_kubernetes_values_have_the_same_topology() -> None:
    rasa = yaml.safe_load((HELM / "rasa-values.yaml").read_text())
    actions = yaml.safe_load((HELM / "action-server-values.yaml").read_text())
    assert rasa["replicaCount"] >= 2 and actions["replicaCount"] >= 2
    endpoints = rasa["applicationSettings"]["endpoints"]
    for store in (endpoints["trackerStore"], endpoints["lockStore"]):
        module, _, name = store["type"].rpartition(".")
        assert hasattr(importlib.import_module(module), name), store["type"]
    assert endpoints["trackerStore"]["dialect"] == "postgresql"
    action = endpoints["additionalEndpoints"]["action_endpoint"]
    assert action["url"] == f"http://{actions['fullnameOverride']}/webhook"
    assert action["headers"]["X-Action-Token"] == "${ACTION_SERVER_TOKEN}"
    assert rasa["rasa-action-server"]["install"] is False  # else a second, token-less endpoint
    # JWT only: no --auth-token, and the secret from a Kubernetes secret.
    assert "--auth-token" not in rasa["args"] and "$(RASA_JWT_SECRET)" in rasa["args"]
    for env in (rasa["extraEnv"], actions["extraEnv"]):
        for item in env:
            if item["name"] in {"RASA_JWT_SECRET", "ACTION_SERVER_TOKEN"}:
                assert item["valueFrom"]["secretKeyRef"]["name"] == "sciatica-bot-secrets"
    annotations = rasa["ingress"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    webhooks = yaml.safe_load((HELM / "webhooks-ingress.yaml").read_text())
    assert webhooks["metadata"]["annotations"]["nginx.ingress.kubernetes.io/limit-rps"]
    backend = webhooks["spec"]["rules"][0]["http"]["paths"][0]
    assert backend["path"] == "/webhooks/"
    assert backend["backend"]["service"]["name"] == rasa["fullnameOverride"]
