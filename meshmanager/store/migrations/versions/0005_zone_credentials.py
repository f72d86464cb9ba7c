"""Zone onboarding: environment and proxies of a zone, and its KDS credentials.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

import meshmanager.store.types

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    with op.batch_alter_table("zones", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "environment", sa.String(length=16), server_default="universal", nullable=False
            )
        )
        batch_op.add_column(
            sa.Column("ingress_enabled", sa.Boolean(), server_default="1", nullable=False)
        )
        batch_op.add_column(
            sa.Column("egress_enabled", sa.Boolean(), server_default="0", nullable=False)
        )
    op.create_table(
        "zone_credentials",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("cp_id", sa.Uuid(), nullable=False),
        sa.Column("zone_id", sa.Uuid(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", meshmanager.store.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", meshmanager.store.types.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", meshmanager.store.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["cp_id"],
            ["control_planes.id"],
            name=op.f("fk_zone_credentials_cp_id_control_planes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_zone_credentials_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["zones.id"],
            name=op.f("fk_zone_credentials_zone_id_zones"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zone_credentials")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_zone_credentials_secret_hash")),
    )
    with op.batch_alter_table("zone_credentials", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_zone_credentials_zone_id"), ["zone_id"], unique=False)
