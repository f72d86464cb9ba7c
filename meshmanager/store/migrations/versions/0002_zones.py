"""Zones of a control plane, with their connection state.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import meshmanager.store.types

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "zones",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("cp_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("connected_at", meshmanager.store.types.UTCDateTime(), nullable=True),
        sa.Column("disconnected_at", meshmanager.store.types.UTCDateTime(), nullable=True),
        sa.Column("last_seen_at", meshmanager.store.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", meshmanager.store.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", meshmanager.store.types.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cp_id"],
            ["control_planes.id"],
            name=op.f("fk_zones_cp_id_control_planes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_zones_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zones")),
        sa.UniqueConstraint("cp_id", "name", name=op.f("uq_zones_cp_id_name")),
    )
    with op.batch_alter_table("zones", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_zones_org_id_cp_id"), ["org_id", "cp_id"], unique=False
        )
