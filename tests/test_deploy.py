"""Static checks of deploy/: Dockerfile, compose, systemd unit, Kubernetes manifests, proxy notes."""

from __future__ import annotations

import configparser
import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.config.load import parse_config
from service.config.settings import build_settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "kubernetes"


# --- Dockerfile ------------------------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, args = line.partition(" ")
            out.append((keyword.upper(), " ".join(args.split())))
    return out


def instructions(keyword: str) -> list[str]:
    """The arguments of every instruction ``keyword``, in order."""
    return [args for kw, args in dockerfile() if kw == keyword]


def exec_form(args: str) -> list[str]:
    """A JSON exec-form argument list (``["ponte"]``)."""
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value)
    return value


def test_dockerfile_uses_python_311_slim():
    """The image is built FROM python:3.11-slim."""
    assert instructions("FROM") == ["python:3.11-slim"]


def test_dockerfile_runs_as_uid_10001():
    """The last USER is the non-root uid 10001, created in the image."""
    users = instructions("USER")
    assert users and users[-1].split(":")[0] == "10001"
    assert any("--uid 10001" in run for run in instructions("RUN"))


def test_dockerfile_installs_the_package_with_pip():
    """The package is installed with `pip install --no-cache-dir .` from copied sources that exist."""
    assert any("pip install --no-cache-dir ." in run for run in instructions("RUN"))
    for copy in instructions("COPY"):
        parts = [p for p in copy.split() if not p.startswith("--")]
        for source in parts[:-1]:
            assert (ROOT / source).exists(), f"COPY source {source} missing from the build context"


def test_dockerfile_dockerignore_keeps_the_copied_files():
    """The BuildKit ignore file excludes everything but what the Dockerfile copies."""
    lines = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    kept = {line[1:] for line in lines if line.startswith("!")}
    assert {"pyproject.toml", "README.md", "service", "config/ponte.yaml"} <= kept


def test_dockerfile_workdir_volume_config_and_port():
    """WORKDIR /app, VOLUME /app/data, PONTE_CONFIG in /app/config, EXPOSE 8080."""
    assert instructions("WORKDIR")[-1] == "/app"
    assert "/app/data" in " ".join(instructions("VOLUME"))
    assert any("PONTE_CONFIG=/app/config/ponte.yaml" in env for env in instructions("ENV"))
    assert instructions("EXPOSE") == ["8080"]


def test_dockerfile_healthcheck_hits_healthz_with_python():
    """HEALTHCHECK probes http://127.0.0.1:8080/healthz with python's urllib (no curl in slim)."""
    (check,) = instructions("HEALTHCHECK")
    command = exec_form(check[check.index("CMD") + 3 :].strip())
    assert command[:2] == ["python", "-c"]
    assert "urllib" in command[2] and "http://127.0.0.1:8080/healthz" in command[2]
    compile(command[2], "<healthcheck>", "exec")


def test_dockerfile_entrypoint_runs_ponte_serve():
    """ENTRYPOINT ["ponte"] with CMD serve --host 0.0.0.0."""
    assert exec_form(instructions("ENTRYPOINT")[-1]) == ["ponte"]
    assert exec_form(instructions("CMD")[-1]) == ["serve", "--host", "0.0.0.0"]


# --- compose ---------------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    """deploy/compose.yaml, parsed."""
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def test_compose_builds_ponte_from_the_dockerfile():
    """The ponte service builds deploy/Dockerfile with the repository root as context."""
    build = compose()["services"]["ponte"]["build"]
    assert (DEPLOY / build["context"]).resolve() == ROOT
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"


def test_compose_ponte_port_volume_env_and_config():
    """Port 8080, a named volume on /app/data, secrets from .env, the compose example as config."""
    doc = compose()
    ponte = doc["services"]["ponte"]
    assert "127.0.0.1:8080:8080" in ponte["ports"]
    volumes = ponte["volumes"]
    named = [v.split(":")[0] for v in volumes if v.split(":")[1] == "/app/data"]
    assert named and named[0] in doc["volumes"]
    config = [v for v in volumes if v.split(":")[1] == "/app/config/ponte.yaml"]
    assert config and (DEPLOY / config[0].split(":")[0]).resolve() == ROOT / "config/examples/compose.yaml"
    env = ponte["environment"]
    assert env["EDUZZ_SECRET"].startswith("${EDUZZ_SECRET:?")  # required: no well-known default on 0.0.0.0
    assert env["PONTE_ADMIN_TOKEN"].startswith("${PONTE_ADMIN_TOKEN:-")


def test_compose_has_mailpit():
    """A Mailpit service publishes its UI (8025) and SMTP (1025) ports."""
    mailpit = compose()["services"]["mailpit"]
    assert mailpit["image"].startswith("axllent/mailpit")
    assert {"127.0.0.1:8025:8025", "127.0.0.1:1025:1025"} <= set(mailpit["ports"])


def test_compose_env_example_lists_the_compose_variables():
    """deploy/.env.example sets every variable compose.yaml reads."""
    names = set(re.findall(r"\$\{([A-Z_]+)", (DEPLOY / "compose.yaml").read_text(encoding="utf-8")))
    lines = (DEPLOY / ".env.example").read_text(encoding="utf-8").splitlines()
    assert names <= {line.split("=")[0] for line in lines if "=" in line and not line.startswith("#")}


# --- systemd -----------------------------------------------------------------------------------


def unit() -> configparser.ConfigParser:
    """deploy/ponte.service, parsed."""
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(DEPLOY / "ponte.service", encoding="utf-8")
    return parser


def test_systemd_unit_runs_ponte_serve():
    """ExecStart runs `ponte serve --config /etc/ponte/ponte.yaml` from the virtualenv."""
    service = unit()["Service"]
    argv = shlex.split(service["ExecStart"])
    assert argv[0].endswith("/bin/ponte") and argv[1] == "serve"
    assert argv[argv.index("--config") + 1] == "/etc/ponte/ponte.yaml"
    assert service["Type"] == "simple" and service["Restart"] == "on-failure"


def test_systemd_unit_state_and_environment():
    """DynamicUser with StateDirectory=ponte as working directory, secrets from an optional env file."""
    service = unit()["Service"]
    assert service["DynamicUser"] == "yes" and service["StateDirectory"] == "ponte"
    assert service["WorkingDirectory"] == "/var/lib/ponte"
    assert service["EnvironmentFile"] == "-/etc/ponte/ponte.env"


def test_systemd_unit_reloads_with_hup_and_stops_with_term():
    """ExecReload sends SIGHUP to the main process; stop is SIGTERM within 30 s."""
    service = unit()["Service"]
    assert shlex.split(service["ExecReload"])[1:] == ["-HUP", "$MAINPID"]
    assert service["KillSignal"] == "SIGTERM" and service["TimeoutStopSec"] == "30"


def test_systemd_unit_is_hardened():
    """The sandboxing options are all set."""
    service = unit()["Service"]
    for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateDevices", "ProtectKernelTunables",
                "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups", "RestrictNamespaces",
                "LockPersonality", "MemoryDenyWriteExecute"):
        assert service[key] == "yes", key
    assert service["ProtectSystem"] == "strict"
    assert set(service["RestrictAddressFamilies"].split()) == {"AF_INET", "AF_INET6", "AF_UNIX"}
    assert service["SystemCallFilter"] == "@system-service"
    assert service["CapabilityBoundingSet"] == ""
    assert unit()["Install"]["WantedBy"] == "multi-user.target"


def test_systemd_unit_raises_the_open_file_limit():
    """LimitNOFILE is set well above the usual 1024 soft limit (one descriptor per connection)."""
    assert int(unit()["Service"]["LimitNOFILE"]) >= 16384


def test_systemd_unit_documents_an_absolute_database_path():
    """The unit's comment gives storage.url as an absolute sqlite URL under the state directory."""
    text = (DEPLOY / "ponte.service").read_text(encoding="utf-8")
    assert "sqlite:////var/lib/ponte/ponte.db" in text


# --- Kubernetes ----------------------------------------------------------------------------------


def manifests() -> dict[str, list[dict[str, Any]]]:
    """Every YAML document under deploy/kubernetes, by file name."""
    return {p.name: [d for d in yaml.safe_load_all(p.read_text(encoding="utf-8")) if d is not None]
            for p in sorted(K8S.glob("*.yaml"))}


def kind(name: str) -> dict[str, Any]:
    """The one object of a given kind among the manifests."""
    found = [d for docs in manifests().values() for d in docs if d.get("kind") == name]
    assert len(found) == 1, name
    return found[0]


def container() -> dict[str, Any]:
    """The ponte container of the Deployment."""
    (only,) = kind("Deployment")["spec"]["template"]["spec"]["containers"]
    return only


def test_kubernetes_every_document_parses():
    """Each manifest file holds at least one document with apiVersion and kind."""
    docs = manifests()
    assert {"deployment.yaml", "pvc.yaml", "service.yaml", "configmap.yaml", "secret.example.yaml",
            "kustomization.yaml"} <= set(docs)
    for name, items in docs.items():
        assert items, name
        for doc in items:
            assert doc.get("apiVersion") and doc.get("kind"), name


def test_kubernetes_kustomization_lists_the_manifests():
    """kustomization.yaml lists every manifest except the secret example (never applied by accident)."""
    resources = set(kind("Kustomization")["resources"])
    assert resources == {"deployment.yaml", "pvc.yaml", "service.yaml", "configmap.yaml"}
    assert all((K8S / r).exists() for r in resources)


def test_kubernetes_deployment_runs_one_pod_recreated():
    """replicas: 1 and strategy Recreate: SQLite has one writer, never two pods on one volume."""
    spec = kind("Deployment")["spec"]
    assert spec["replicas"] == 1 and spec["strategy"]["type"] == "Recreate"
    assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()


def test_kubernetes_deployment_runs_serve():
    """The container's command/args run `ponte serve` listening on all interfaces."""
    c = container()
    argv = [*c.get("command", []), *c.get("args", [])]
    assert "serve" in argv and argv[argv.index("--host") + 1] == "0.0.0.0"


def test_kubernetes_probes():
    """Liveness on /healthz, readiness on /readyz, both on port 8080."""
    c = container()
    assert {"containerPort": 8080, "name": "http"} in c["ports"]
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": 8080}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": 8080}


def test_kubernetes_security_context():
    """Non-root, no privilege escalation, read-only root filesystem, every capability dropped."""
    pod = kind("Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    sc = container()["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"]


def test_kubernetes_volumes():
    """The PVC is mounted writable at /app/data and the ConfigMap read-only at /app/config."""
    pod = kind("Deployment")["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m for m in container()["volumeMounts"]}
    data = volumes[mounts["/app/data"]["name"]]
    assert data["persistentVolumeClaim"]["claimName"] == kind("PersistentVolumeClaim")["metadata"]["name"]
    assert not mounts["/app/data"].get("readOnly", False)
    config = volumes[mounts["/app/config"]["name"]]
    assert config["configMap"]["name"] == kind("ConfigMap")["metadata"]["name"]
    assert mounts["/app/config"]["readOnly"] is True


def test_kubernetes_pvc_and_service():
    """The PVC is ReadWriteOnce 1Gi; the Service maps port 80 to 8080."""
    pvc = kind("PersistentVolumeClaim")["spec"]
    assert pvc["accessModes"] == ["ReadWriteOnce"] and pvc["resources"]["requests"]["storage"] == "1Gi"
    svc = kind("Service")["spec"]
    assert svc["type"] == "ClusterIP"
    assert svc["ports"][0]["port"] == 80 and svc["ports"][0]["targetPort"] == 8080
    assert svc["selector"].items() <= kind("Deployment")["spec"]["template"]["metadata"]["labels"].items()


def test_kubernetes_secret_feeds_the_config():
    """The pod takes env from ponte-secrets, which has every ${VAR} the ConfigMap's config needs."""
    assert {"secretRef": {"name": "ponte-secrets"}} in container()["envFrom"]
    secret = kind("Secret")
    assert secret["metadata"]["name"] == "ponte-secrets"
    text = kind("ConfigMap")["data"]["ponte.yaml"]
    needed = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", text))
    assert needed <= set(secret["stringData"])


def test_kubernetes_configmap_config_is_valid():
    """The ConfigMap's ponte.yaml passes the full config check with the Secret's values."""
    raw = yaml.safe_load(kind("ConfigMap")["data"]["ponte.yaml"])
    env = {k: str(v) for k, v in kind("Secret")["stringData"].items()}
    settings = build_settings(parse_config(raw, env=env))
    assert settings.config.server.host == "0.0.0.0"
    assert settings.config.storage.url == "sqlite:////app/data/ponte.db"  # the volume


@pytest.mark.parametrize("server", ["Caddy", "nginx"])
def test_reverse_proxy_notes_cover_both_servers(server):
    """reverse-proxy.md shows each server exposing /webhooks/ only, with the 1 MiB body limit."""
    text = (DEPLOY / "reverse-proxy.md").read_text(encoding="utf-8")
    assert f"## {server}" in text
    assert "/webhooks/" in text and "/api/" in text and "/metrics" in text
    assert "max_size 1MiB" in text and "client_max_body_size 1m;" in text
    assert "host: 127.0.0.1" in text
