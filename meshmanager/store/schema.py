"""Tables. Every tenant-owned row carries `org_id`, and control-plane rows `cp_id` too.

Migrations in `migrations/versions` must produce exactly this schema; a test checks it.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    Uuid,
)

from meshmanager.store.types import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _timestamps() -> list[Column[object]]:
    return [
        Column("created_at", UTCDateTime(), nullable=False),
        Column("updated_at", UTCDateTime(), nullable=False),
        Column("version", Integer, nullable=False, default=1),
    ]


def _org_fk() -> Column[object]:
    return Column(
        "org_id", Uuid, ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False
    )


meta = Table(
    "meshmanager_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(255), nullable=False),
)

organizations = Table(
    "organizations",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    *_timestamps(),
)

users = Table(
    "users",
    metadata,
    Column("id", Uuid, primary_key=True),
    _org_fk(),
    Column("email", String(320), nullable=False, unique=True),
    Column("full_name", String(100), nullable=False, default=""),
    Column("org_admin", Boolean, nullable=False, default=False),
    Column("platform_operator", Boolean, nullable=False, default=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("password_hash", String(255), nullable=True),
    *_timestamps(),
    Index(None, "org_id", "email"),
)

teams = Table(
    "teams",
    metadata,
    Column("id", Uuid, primary_key=True),
    _org_fk(),
    Column("name", String(100), nullable=False),
    Column("description", String(250), nullable=False, default=""),
    *_timestamps(),
    UniqueConstraint("org_id", "name"),
)

team_members = Table(
    "team_members",
    metadata,
    _org_fk(),
    Column("team_id", Uuid, ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Index(None, "user_id"),
)

system_accounts = Table(
    "system_accounts",
    metadata,
    Column("id", Uuid, primary_key=True),
    _org_fk(),
    Column("name", String(100), nullable=False),
    Column("description", String(250), nullable=False, default=""),
    Column("org_admin", Boolean, nullable=False, default=False),
    *_timestamps(),
    UniqueConstraint("org_id", "name"),
)

access_tokens = Table(
    "access_tokens",
    metadata,
    Column("id", Uuid, primary_key=True),
    _org_fk(),
    Column("owner_type", String(20), nullable=False),
    Column("owner_id", Uuid, nullable=False),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("last_used_at", UTCDateTime(), nullable=True),
    Index(None, "org_id", "owner_type", "owner_id"),
)

role_assignments = Table(
    "role_assignments",
    metadata,
    Column("id", Uuid, primary_key=True),
    _org_fk(),
    Column("subject_type", String(20), nullable=False),
    Column("subject_id", Uuid, nullable=False),
    Column("role_name", String(32), nullable=False),
    Column("entity_type_name", String(64), nullable=False),
    Column("entity_id", String(36), nullable=False),
    Column("entity_region", String(20), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("subject_type", "subject_id", "role_name", "entity_id"),
    Index(None, "org_id", "entity_id"),
)

control_planes = Table(
    "control_planes",
    metadata,
    Column("id", Uuid, primary_key=True),
    _org_fk(),
    Column("name", String(100), nullable=False),
    Column("description", String(250), nullable=False, default=""),
    Column("labels", JSON, nullable=False),
    Column("features", JSON, nullable=False),
    # Bumped by every write of the control plane's Kuma resources (see resources.revision).
    Column("resource_revision", BigInteger, nullable=False, server_default="0"),
    *_timestamps(),
    UniqueConstraint("org_id", "name"),
)

zones = Table(
    "zones",
    metadata,
    Column("id", Uuid, primary_key=True),
    _org_fk(),
    Column("cp_id", Uuid, ForeignKey("control_planes.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(63), nullable=False),
    Column("connected_at", UTCDateTime(), nullable=True),
    Column("disconnected_at", UTCDateTime(), nullable=True),
    Column("last_seen_at", UTCDateTime(), nullable=True),
    Column("environment", String(16), nullable=False, server_default="universal"),
    Column("ingress_enabled", Boolean, nullable=False, server_default="1"),
    Column("egress_enabled", Boolean, nullable=False, server_default="0"),
    *_timestamps(),
    UniqueConstraint("cp_id", "name"),
    Index(None, "org_id", "cp_id"),
)

# A zone's KDS credentials: only a hash is kept. Rotating revokes the older ones.
zone_credentials = Table(
    "zone_credentials",
    metadata,
    Column("id", Uuid, primary_key=True),
    _org_fk(),
    Column("cp_id", Uuid, ForeignKey("control_planes.id", ondelete="CASCADE"), nullable=False),
    Column("zone_id", Uuid, ForeignKey("zones.id", ondelete="CASCADE"), nullable=False),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=True),
    Column("revoked_at", UTCDateTime(), nullable=True),
    Index(None, "zone_id"),
)

resources = Table(
    "resources",
    metadata,
    _org_fk(),
    Column(
        "cp_id",
        Uuid,
        ForeignKey("control_planes.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("type", String(64), primary_key=True),
    Column("mesh", String(253), primary_key=True),
    Column("name", String(253), primary_key=True),
    Column("labels", JSON, nullable=False),
    Column("spec", JSON, nullable=False),
    Column("status", JSON, nullable=True),
    # The control plane's resource_revision that last wrote this row: readers catch up
    # with `revision > last seen` (and the tombstones) instead of reloading everything.
    Column("revision", BigInteger, nullable=False, server_default="0"),
    *_timestamps(),
    Index(None, "cp_id", "revision"),
)

resource_tombstones = Table(
    "resource_tombstones",
    metadata,
    Column("cp_id", Uuid, ForeignKey("control_planes.id", ondelete="CASCADE"), nullable=False),
    Column("type", String(64), nullable=False),
    Column("mesh", String(253), nullable=False),
    Column("name", String(253), nullable=False),
    Column("revision", BigInteger, nullable=False),
    Column("deleted_at", UTCDateTime(), nullable=False),
    Index(None, "cp_id", "revision"),
)
