"""`GET /config`: the control plane's configuration in the shape of a Kuma v2.14.3
global's `kuma-cp` config (`pkg/api-server/config_ws.go`: the config struct as JSON,
secrets masked).

Built from the template below, field names and order as Go's encoding/json writes
`pkg/config/app/kuma-cp` `Config` (durations as Go prints them: `1m0s`), with the values
meshmanager really runs with. Sections that describe machinery a hosted global does
not run for a tenant (xDS, bootstrap and DP servers, DNS, runtime, diagnostics,
metrics, ...) are left out, as are the operator's database address and credentials:
a Viewer of one control plane must not learn them. Nothing secret is in the template.

Access: any caller who may read the control plane (Kuma: `ControlPlaneMetadataAccess`).
No kumactl command calls it; the Kuma GUI shows it as the "Configuration" page.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from meshmanager.addresses import HostPort
from meshmanager.api.kuma.context import kuma_call
from meshmanager.api.kuma.resources import json_response
from meshmanager.model.controlplane import ControlPlane
from meshmanager.model.identity import Action

KDS_DEFAULT_PORT = 5685  # `meshmanager serve --kds-address` default, and Kuma's
# How meshmanager's KDS server works (kds/ sits above api/, so these are restated here;
# a test keeps them equal to kds.server and kds.status):
KDS_MAX_MESSAGE_BYTES = 10 * 1024 * 1024  # kds.server.MAX_MESSAGE_BYTES
KDS_RESYNC_SECONDS = 300.0  # kds.server.SAFETY_NET_SECONDS: changes are pushed at once
KDS_ZONE_INSIGHT_FLUSH_SECONDS = 10.0  # kds.status.FLUSH_SECONDS
STORE_TYPES = {"postgresql": "postgres"}  # anything else: in-process, Kuma's "memory"


def go_duration(seconds: float) -> str:
    """time.Duration.String() for the whole-second and millisecond values used here."""
    if seconds == 0:
        return "0s"
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


def _enabled(control_plane: ControlPlane, feature_type: str) -> bool:
    for feature in control_plane.features:
        if feature.type == feature_type:
            toggle = getattr(feature, "mesh_creation", None) or getattr(
                feature, "hostname_generator_creation", None
            )
            return bool(toggle and toggle.enabled)
    return False


def kuma_cp_config(
    control_plane: ControlPlane,
    *,
    store_dialect: str,
    kds_address: HostPort | None,
    http_address: tuple[str, int] | None,
    base_path: str,
) -> dict[str, Any]:
    """The document: every value is either a fact of this deployment or a constant of
    how meshmanager works (each named where it comes from)."""
    http_host, http_port = http_address or ("0.0.0.0", 5681)
    return {
        "environment": "universal",
        "mode": "global",
        "store": {
            "type": STORE_TYPES.get(store_dialect, "memory"),
            "postgres": None,  # the operator's, not the tenant's
            "kubernetes": {"systemNamespace": "kuma-system"},  # what ?format=k8s uses
            "cache": {"enabled": True, "expirationTime": "0s"},  # kept current, no expiry
            "upsert": {
                "conflictRetryBaseBackoff": "0s",
                "conflictRetryMaxTimes": 0,
                "conflictRetryJitterPercent": 0,
            },
            "unsafeDelete": False,
        },
        "apiServer": {
            "readOnly": False,
            "corsAllowedDomains": [],
            "http": {"enabled": True, "interface": http_host, "port": http_port},
            "https": {
                "enabled": False,
                "interface": "",
                "port": 0,
                "tlsCertFile": "",
                "tlsKeyFile": "",
                "tlsMinVersion": "",
                "tlsMaxVersion": "",
                "tlsCipherSuites": [],
                "requireClientCert": False,
                "tlsCaFile": "",
            },
            "auth": {"clientCertsDir": ""},
            "authn": {
                # meshmanager's own bearer tokens; loopback callers are not admins.
                "type": "tokens",
                "localhostIsAdmin": False,
                "tokens": {
                    "bootstrapAdminToken": False,
                    "enableIssuer": False,
                    "validator": {"useSecrets": False, "publicKeys": []},
                },
            },
            "basePath": base_path,
            "rootUrl": "",
            "gui": {"enabled": False, "rootUrl": "", "basePath": ""},
            "readHeaderTimeout": "0s",
            "readTimeout": "0s",
            "writeTimeout": "0s",
            "idleTimeout": go_duration(5),  # uvicorn's keep-alive
        },
        "defaults": {
            "skipMeshCreation": not _enabled(control_plane, "MeshCreation"),
            "skipTenantResources": False,
            "createMeshRoutingResources": False,
            "SkipHostnameGenerators": not _enabled(control_plane, "HostnameGeneratorCreation"),
        },
        "multizone": {
            "global": {
                "kds": {
                    "grpcPort": kds_address.port if kds_address else KDS_DEFAULT_PORT,
                    "refreshInterval": go_duration(KDS_RESYNC_SECONDS),
                    "zoneInsightFlushInterval": go_duration(KDS_ZONE_INSIGHT_FLUSH_SECONDS),
                    "tlsEnabled": False,
                    "tlsCertFile": "",
                    "tlsKeyFile": "",
                    "tlsMinVersion": "",
                    "tlsMaxVersion": "",
                    "tlsCipherSuites": [],
                    "maxMsgSize": KDS_MAX_MESSAGE_BYTES,
                    "msgSendTimeout": "0s",
                    "nackBackoff": "0s",
                    "responseBackoff": "0s",
                    "logPayloads": False,
                    "zoneHealthCheck": {
                        "pollInterval": "0s",
                        "timeout": "0s",
                        "closeStaleConn": False,
                    },
                    "tracing": {},
                    "labels": {},
                }
            }
        },
    }


async def config(request: Request) -> Response:
    call = await kuma_call(request, Action.READ)
    server = request.scope.get("server")
    return json_response(
        kuma_cp_config(
            call.control_plane,
            store_dialect=call.store.dialect.name,
            kds_address=getattr(request.app.state, "kds_address", None),
            http_address=(server[0], server[1]) if server and server[1] is not None else None,
            base_path=request.scope.get("root_path") or "/",
        )
    )
