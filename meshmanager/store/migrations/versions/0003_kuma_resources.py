"""Kuma resources of each control plane, one table for every type.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

import meshmanager.store.types

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "resources",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("cp_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("mesh", sa.String(length=253), nullable=False),
        sa.Column("name", sa.String(length=253), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("status", sa.JSON(), nullable=True),
        sa.Column("created_at", meshmanager.store.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", meshmanager.store.types.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cp_id"],
            ["control_planes.id"],
            name=op.f("fk_resources_cp_id_control_planes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_resources_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("cp_id", "type", "mesh", "name", name=op.f("pk_resources")),
    )
