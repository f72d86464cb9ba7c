"""Ready-to-run material for a new zone: a `kuma-cp` config for universal zones, Helm
values for Kubernetes zones, both pointing at this server's KDS address with the
zone's credential in it (docs/zones.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from meshmanager.model.zones import DeployMaterial, KdsEndpoint

CA_FILE = "kds-ca.pem"
UNIVERSAL_CONFIG = "zone.yaml"
HELM_VALUES = "values.yaml"
UNIVERSAL_CA_PATH = f"/etc/kuma/{CA_FILE}"
NAMESPACE = "kuma-system"
KUBERNETES_CA_SECRET = "kds-ca-certs"
KUMA_VERSION = "2.14.3"
_CREDENTIAL_NOTE = (
    "# The global address holds this zone's KDS credential: keep this file private.\n"
)
_POSTGRES_NOTE = """\
# For a production zone, replace the memory store with PostgreSQL:
#   store:
#     type: postgres
#     postgres: {host: <host>, port: 5432, user: <user>, password: <password>, dbName: kuma}
"""


def global_address(endpoint: KdsEndpoint, zone: str, credential: str) -> str:
    """The KDS address with the credential as its userinfo password, which Kuma zones
    redact when they log the address."""
    parts = urlsplit(endpoint.address)
    netloc = f"{zone}:{credential}@{parts.netloc.rsplit('@', 1)[-1]}"
    return urlunsplit((parts.scheme, netloc, "", "", ""))


def _yaml(document: object) -> str:
    return yaml.safe_dump(document, sort_keys=False)


def universal(
    endpoint: KdsEndpoint, zone: str, credential: str, ingress: bool, egress: bool
) -> DeployMaterial:
    address = global_address(endpoint, zone, credential)
    kds: dict[str, object] = {}
    env = {
        "KUMA_MODE": "zone",
        "KUMA_ENVIRONMENT": "universal",
        "KUMA_STORE_TYPE": "memory",
        "KUMA_MULTIZONE_ZONE_NAME": zone,
        "KUMA_MULTIZONE_ZONE_GLOBAL_ADDRESS": address,
    }
    if endpoint.ca_pem:
        kds["rootCaFile"] = UNIVERSAL_CA_PATH
        env["KUMA_MULTIZONE_ZONE_KDS_ROOT_CA_FILE"] = UNIVERSAL_CA_PATH
    zone_config: dict[str, object] = {"name": zone, "globalAddress": address}
    if kds:
        zone_config["kds"] = kds
    config = {
        "mode": "zone",
        "environment": "universal",
        "store": {"type": "memory"},
        "multizone": {"zone": zone_config},
    }
    files = {UNIVERSAL_CONFIG: _CREDENTIAL_NOTE + _POSTGRES_NOTE + _yaml(config)}
    commands = [f"chmod 600 {UNIVERSAL_CONFIG}"]
    if endpoint.ca_pem:
        files[CA_FILE] = endpoint.ca_pem
        commands.append(f"sudo install -D -m 0644 {CA_FILE} {UNIVERSAL_CA_PATH}")
    commands.append(f"kuma-cp run --config-file {UNIVERSAL_CONFIG}")
    commands += _proxy_hints(ingress, egress)
    return DeployMaterial(
        global_address=address,
        ca_pem=endpoint.ca_pem,
        commands=commands,
        files=files,
        environment_variables=env,
    )


def _proxy_hints(ingress: bool, egress: bool) -> list[str]:
    hints = []
    if ingress:
        hints.append("# then run a zone ingress: kuma-dp run --proxy-type=ingress ...")
    if egress:
        hints.append("# then run a zone egress: kuma-dp run --proxy-type=egress ...")
    return hints


def kubernetes(
    endpoint: KdsEndpoint, zone: str, credential: str, ingress: bool, egress: bool
) -> DeployMaterial:
    address = global_address(endpoint, zone, credential)
    plane: dict[str, object] = {"mode": "zone", "zone": zone, "kdsGlobalAddress": address}
    files: dict[str, str] = {}
    commands = [
        f"kubectl create namespace {NAMESPACE} --dry-run=client -o yaml | kubectl apply -f -"
    ]
    if endpoint.ca_pem:
        # The chart mounts the secret's ca.crt as the zone's KDS root CA file.
        plane["tls"] = {"kdsZoneClient": {"secretName": KUBERNETES_CA_SECRET}}
        files[CA_FILE] = endpoint.ca_pem
        commands.append(
            f"kubectl create secret generic {KUBERNETES_CA_SECRET} --namespace {NAMESPACE}"
            f" --from-file=ca.crt={CA_FILE}"
        )
    values = {
        "controlPlane": plane,
        "ingress": {"enabled": ingress},
        "egress": {"enabled": egress},
    }
    files[HELM_VALUES] = _CREDENTIAL_NOTE + _yaml(values)
    commands += [
        "helm repo add kuma https://kumahq.github.io/charts",
        "helm repo update",
        f"helm install kuma kuma/kuma --version {KUMA_VERSION} --namespace {NAMESPACE}"
        f" --values {HELM_VALUES}",
    ]
    return DeployMaterial(
        global_address=address,
        ca_pem=endpoint.ca_pem,
        commands=commands,
        files=files,
        environment_variables={},
    )


def material(
    environment: str, endpoint: KdsEndpoint, zone: str, credential: str, ingress: bool, egress: bool
) -> DeployMaterial:
    build = kubernetes if environment == "kubernetes" else universal
    return build(endpoint, zone, credential, ingress, egress)


def material_for(zone: Mapping[Any, Any], endpoint: KdsEndpoint, credential: str) -> DeployMaterial:
    """The material for a stored zone (a `zones` row)."""
    return material(
        zone["environment"],
        endpoint,
        zone["name"],
        credential,
        zone["ingress_enabled"],
        zone["egress_enabled"],
    )
