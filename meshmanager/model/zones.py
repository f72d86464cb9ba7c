"""Zones of a control plane as the zone API shows them, and how a zone reaches KDS."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, Field, StrictBool

from meshmanager.model.common import StrictModel

# RFC 1035 label, as Kuma requires of zone names (a DNS name of at most 63 characters).
ZONE_NAME_PATTERN = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
ZoneName = Annotated[
    str, Field(min_length=1, max_length=63, pattern=ZONE_NAME_PATTERN, examples=["us-east-1"])
]
Environment = Literal["kubernetes", "universal"]


@dataclass(frozen=True)
class KdsEndpoint:
    """Where zones dial this server: `grpcs://host:port` (or `grpc://` when plaintext
    was chosen), and the CA that signed the server's certificate when it is our own."""

    address: str = "grpcs://127.0.0.1:5685"
    ca_pem: str | None = None


class ZoneCreate(StrictModel):
    name: ZoneName
    environment: Environment = "universal"
    ingress: StrictBool = Field(default=True, description="Deploy a zone ingress.")
    egress: StrictBool = Field(default=False, description="Deploy a zone egress.")


class Zone(BaseModel):
    id: UUID
    name: str
    environment: Environment
    ingress: bool
    egress: bool
    online: bool
    connected_at: datetime | None
    disconnected_at: datetime | None
    last_seen_at: datetime | None
    kuma_version: str | None = Field(description="The zone's Kuma version, once it connected.")
    credential_prefix: str | None = Field(description="The start of the current credential.")
    credential_created_at: datetime | None
    created_at: datetime


class DeployMaterial(BaseModel):
    global_address: str = Field(description="The KDS address with the credential in it.")
    ca_pem: str | None = Field(description="Save as the zone's KDS root CA file.")
    commands: list[str] = Field(description="Run these, in order.")
    files: dict[str, str] = Field(description="File name -> contents, to write first.")
    environment_variables: dict[str, str] = Field(
        description="The same settings as environment variables (universal zones)."
    )


class ZoneWithCredential(BaseModel):
    zone: Zone
    credential: str = Field(description="Shown once: the zone's KDS credential.")
    deploy: DeployMaterial
