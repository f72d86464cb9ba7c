"""Revisions of Kuma resources, so that caches catch up incrementally.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

import meshmanager.store.types

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_table(
        "resource_tombstones",
        sa.Column("cp_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("mesh", sa.String(length=253), nullable=False),
        sa.Column("name", sa.String(length=253), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("deleted_at", meshmanager.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cp_id"],
            ["control_planes.id"],
            name=op.f("fk_resource_tombstones_cp_id_control_planes"),
            ondelete="CASCADE",
        ),
    )
    with op.batch_alter_table("resource_tombstones", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_resource_tombstones_cp_id_revision"), ["cp_id", "revision"], unique=False
        )

    with op.batch_alter_table("control_planes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("resource_revision", sa.BigInteger(), server_default="0", nullable=False)
        )

    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("revision", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.create_index(
            batch_op.f("ix_resources_cp_id_revision"), ["cp_id", "revision"], unique=False
        )
