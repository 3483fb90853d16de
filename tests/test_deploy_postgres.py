"""Static checks of the PostgreSQL deployments: compose with two replicas, Kubernetes variant."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from service.config.load import parse_config
from service.config.settings import build_settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
K8S_PG = DEPLOY / "kubernetes" / "postgres"
ENV = {"PONTE_DATABASE_URL": "postgresql://ponte:x@postgres:5432/ponte", "EDUZZ_SECRET": "s",
       "SLACK_VENDAS_URL": "https://hooks.slack.com/services/T/B/x", "POSTGRES_PASSWORD": "p"}


def docs() -> dict[str, dict[str, Any]]:
    """Every manifest of the PostgreSQL variant, by kind."""
    out = {}
    for path in sorted(K8S_PG.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc is not None:
                out[doc["kind"]] = doc
    return out


def test_kubernetes_postgres_runs_two_pods_rolling():
    """replicas: 2, RollingUpdate that starts a new pod before stopping an old one, no PVC."""
    spec = docs()["Deployment"]["spec"]
    assert spec["replicas"] == 2
    assert spec["strategy"]["type"] == "RollingUpdate"
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    volumes = spec["template"]["spec"]["volumes"]
    assert not any("persistentVolumeClaim" in v for v in volumes)


def test_kubernetes_postgres_has_a_disruption_budget_for_the_pods():
    """A PodDisruptionBudget keeps at least one pod, selecting the Deployment's pods."""
    found = docs()
    pdb = found["PodDisruptionBudget"]["spec"]
    labels = found["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert pdb["minAvailable"] == 1
    assert pdb["selector"]["matchLabels"].items() <= labels.items()
    assert found["Service"]["spec"]["selector"].items() <= labels.items()


def test_kubernetes_postgres_kustomization_lists_every_manifest():
    """kustomization.yaml applies every manifest of the directory."""
    resources = set(docs()["Kustomization"]["resources"])
    assert resources == {p.name for p in K8S_PG.glob("*.yaml")} - {"kustomization.yaml"}


def test_kubernetes_postgres_config_is_valid_and_uses_the_secret_url():
    """The ConfigMap's config passes the full check, its storage.url from the Secret."""
    text = docs()["ConfigMap"]["data"]["ponte.yaml"]
    assert "${PONTE_DATABASE_URL}" in text
    config = parse_config(yaml.safe_load(text), env=ENV)
    build_settings(config)
    assert config.storage.url == ENV["PONTE_DATABASE_URL"]
    secret = yaml.safe_load((DEPLOY / "kubernetes" / "secret.example.yaml").read_text(encoding="utf-8"))
    assert secret["stringData"]["PONTE_DATABASE_URL"].startswith("postgresql://")


def test_compose_postgres_runs_two_replicas_after_the_database():
    """Two ponte services from one image and config, started once PostgreSQL is healthy."""
    doc = yaml.safe_load((DEPLOY / "compose.postgres.yaml").read_text(encoding="utf-8"))
    services = doc["services"]
    replicas = [s for name, s in services.items() if name.startswith("ponte-")]
    assert len(replicas) == 2
    assert {s["depends_on"]["postgres"]["condition"] for s in replicas} == {"service_healthy"}
    assert services["postgres"]["image"].startswith("postgres:")
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert len({tuple(s["ports"]) for s in replicas}) == 2
    mount = replicas[0]["volumes"][0].split(":")
    config = parse_config(yaml.safe_load((DEPLOY / mount[0]).read_text(encoding="utf-8")), env=ENV)
    build_settings(config)
    assert config.storage.url == "postgresql://ponte:p@postgres:5432/ponte"
