"""Organizations, users, teams, system accounts, access tokens and role assignments."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, EmailStr, Field, StrictBool

from meshmanager.model.common import StrictModel, Timestamps

EntityName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^\S(.*\S)?$")]
Description = Annotated[str, Field(max_length=250)]

ENTITY_TYPE: Literal["Mesh Control Planes"] = "Mesh Control Planes"
ALL_ENTITIES = "*"


class Action(enum.StrEnum):
    LIST = "list"
    CREATE = "create"
    READ = "read"
    UPDATE = "update"
    DELETE = "delete"
    CONNECT = "connect"


class Role(enum.StrEnum):
    ADMIN = "Admin"
    CONNECTOR = "Connector"
    CREATOR = "Creator"
    VIEWER = "Viewer"


ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.CONNECTOR: frozenset({Action.CONNECT}),
    Role.CREATOR: frozenset({Action.LIST, Action.CREATE}),
    Role.VIEWER: frozenset({Action.READ, Action.LIST}),
}

ROLE_DESCRIPTIONS: dict[Role, str] = {
    Role.ADMIN: "full write access to the related to Mesh control planes",
    Role.CONNECTOR: "grants a mesh zone to connect to the mesh control plane",
    Role.CREATOR: "access to create new Mesh control planes",
    Role.VIEWER: "read-only permissions to Mesh control planes",
}


class SubjectType(enum.StrEnum):
    USER = "user"
    TEAM = "team"
    SYSTEM_ACCOUNT = "system_account"


class TokenOwner(enum.StrEnum):
    USER = "user"
    SYSTEM_ACCOUNT = "system_account"


TOKEN_PREFIX: dict[TokenOwner, str] = {
    TokenOwner.USER: "kpat_",
    TokenOwner.SYSTEM_ACCOUNT: "spat_",
}


# Organizations


class Organization(Timestamps):
    id: UUID
    name: str


class OrganizationCreate(StrictModel):
    name: EntityName
    admin_email: EmailStr = Field(description="Email of the organization's first admin user.")


# Users


class UserCreate(StrictModel):
    email: EmailStr
    full_name: Annotated[str, Field(max_length=100)] = ""
    org_admin: StrictBool = False
    active: StrictBool = True


class UserPatch(StrictModel):
    full_name: Annotated[str, Field(max_length=100)] | None = None
    org_admin: StrictBool | None = None
    active: StrictBool | None = None


class User(Timestamps):
    id: UUID
    email: str
    full_name: str
    org_admin: bool
    active: bool


# Teams


class TeamCreate(StrictModel):
    name: EntityName
    description: Description = ""


class TeamPatch(StrictModel):
    name: EntityName | None = None
    description: Description | None = None


class Team(Timestamps):
    id: UUID
    name: str
    description: str


class TeamMemberAdd(StrictModel):
    id: UUID = Field(description="The id of the user to add.")


# System accounts


class SystemAccountCreate(StrictModel):
    name: EntityName
    description: Description = ""
    org_admin: StrictBool = False


class SystemAccountPatch(StrictModel):
    name: EntityName | None = None
    description: Description | None = None
    org_admin: StrictBool | None = None


class SystemAccount(Timestamps):
    id: UUID
    name: str
    description: str
    org_admin: bool


# Access tokens


class AccessTokenCreate(StrictModel):
    name: EntityName
    expires_at: datetime | None = Field(
        default=None,
        description="When the token stops working: in the future and at most a year away."
        " Defaults to 30 days from now.",
    )


class AccessToken(BaseModel):
    id: UUID
    name: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None


class AccessTokenWithSecret(AccessToken):
    token: str = Field(description="The secret. It is shown only in this response.")


# Role assignments


class RoleAssignmentCreate(StrictModel):
    role_name: Role
    entity_type_name: Literal["Mesh Control Planes"] = ENTITY_TYPE
    entity_id: str = Field(
        default=ALL_ENTITIES, description="A control plane id, or `*` for all of them."
    )
    entity_region: str = Field(default="*", max_length=20)


class RoleAssignment(BaseModel):
    id: UUID
    role_name: Role
    entity_type_name: str
    entity_id: str
    entity_region: str
    created_at: datetime


class RoleDefinition(BaseModel):
    name: Role
    description: str
    actions: list[Action]


class OrganizationCreated(BaseModel):
    organization: Organization
    admin_user: User
    admin_token: AccessTokenWithSecret
