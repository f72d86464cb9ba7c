"""Control planes: the unit of tenancy below an organization."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, delete, insert, or_, select
from sqlalchemy.engine import RowMapping

from meshmanager.model.controlplane import ControlPlane, ControlPlaneFields
from meshmanager.model.errors import PreconditionFailed
from meshmanager.model.identity import ENTITY_TYPE, Role, SubjectType
from meshmanager.model.paging import ControlPlaneQuery, LabelFilter, LabelOp
from meshmanager.model.resources.stored import CpScope, Resource
from meshmanager.observability import store_operation
from meshmanager.store.entities import EntityRepository
from meshmanager.store.resources import Create
from meshmanager.store.rows import Versioned, delete_scoped, insert_versioned
from meshmanager.store.schema import control_planes, role_assignments, zones
from meshmanager.store.types import utcnow
from meshmanager.store.zones import online_zone_names


class ControlPlaneRepository(EntityRepository[ControlPlane]):
    def __init__(self, store: Any) -> None:
        super().__init__(store, control_planes, ControlPlane)

    def to_model(self, row: RowMapping) -> ControlPlane:
        return ControlPlane.model_validate(dict(row), by_alias=True)

    async def create_owned(
        self,
        org_id: UUID,
        fields: ControlPlaneFields,
        admin: tuple[SubjectType, UUID] | None = None,
        initial: Sequence[Resource] = (),
    ) -> Versioned[ControlPlane]:
        """Creates a control plane with its `initial` Kuma resources and, in the same
        transaction, makes `admin` its Admin."""
        with store_operation("control_planes.create"):
            async with self.store.write() as conn:
                row = await insert_versioned(
                    conn, control_planes, {"org_id": org_id, **fields.model_dump(by_alias=True)}
                )
                scope = CpScope(org_id, row["id"])
                for resource in initial:
                    await Create(resource).apply(conn, scope, revision=0)
                if admin is not None:
                    await conn.execute(
                        insert(role_assignments).values(
                            id=uuid.uuid4(),
                            org_id=org_id,
                            subject_type=admin[0],
                            subject_id=admin[1],
                            role_name=Role.ADMIN,
                            entity_type_name=ENTITY_TYPE,
                            entity_id=str(row["id"]),
                            entity_region="*",
                            created_at=utcnow(),
                        )
                    )
        return self.versioned(row)

    async def query(self, org_id: UUID, query: ControlPlaneQuery) -> tuple[list[ControlPlane], int]:
        where: list[ColumnElement[bool]] = []
        if query.only_ids is not None:
            where.append(control_planes.c.id.in_(query.only_ids))
        if query.name_eq is not None:
            where.append(control_planes.c.name == query.name_eq)
        if query.name_contains is not None:
            where.append(control_planes.c.name.contains(query.name_contains, autoescape=True))
        where.extend(_label_clause(f) for f in query.labels)
        return await self.list(org_id, query.page, where)

    async def delete(self, org_id: UUID, id_: UUID) -> None:
        """Refuses while a zone is online; otherwise removes it and everything it owns."""
        with store_operation("control_planes.delete"):
            async with self.store.write() as conn:
                online = await online_zone_names(conn, org_id, id_, utcnow())
                if online:
                    raise PreconditionFailed(
                        f'Bad Request: cpID [invalid]: zone "{online[0]}" is still online.'
                        " Disconnect the zone first"
                    )
                await conn.execute(
                    delete(zones).where(zones.c.org_id == org_id, zones.c.cp_id == id_)
                )
                await conn.execute(
                    delete(role_assignments).where(
                        role_assignments.c.org_id == org_id,
                        role_assignments.c.entity_id == str(id_),
                    )
                )
                await delete_scoped(conn, control_planes, org_id, id_)
        self.store.resources.cache.forget(id_)

    async def ids_in_org(self, org_id: UUID) -> set[UUID]:
        async with self.store.read() as conn:
            result = await conn.execute(
                select(control_planes.c.id).where(control_planes.c.org_id == org_id)
            )
        return set(result.scalars())


def _label_clause(label: LabelFilter) -> ColumnElement[bool]:
    value = control_planes.c.labels[label.key].as_string()
    present: ColumnElement[bool] = value.is_not(None)
    if label.op == LabelOp.EQ:
        return and_(present, value == label.values[0])
    if label.op == LabelOp.NEQ:
        return or_(value.is_(None), value != label.values[0])
    if label.op == LabelOp.OEQ:
        return and_(present, value.in_(label.values))
    return and_(present, or_(*(value.contains(v, autoescape=True) for v in label.values)))
