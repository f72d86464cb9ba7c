"""The MeshControlPlane object of the management API (Konnect shape)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from meshmanager.model.common import Labels, StrictModel, Timestamps

NAME_PATTERN = r"^[a-z0-9A-Z]{1}.*$"
ControlPlaneName = Annotated[
    str, Field(min_length=1, max_length=100, pattern=NAME_PATTERN, examples=["prod-us"])
]
Description = Annotated[str, Field(max_length=250)]


class Toggle(StrictModel):
    enabled: StrictBool


class MeshCreationFeature(StrictModel):
    model_config = ConfigDict(populate_by_name=True)
    type: Literal["MeshCreation"]
    mesh_creation: Toggle = Field(alias="meshCreation")


class HostnameGeneratorCreationFeature(StrictModel):
    model_config = ConfigDict(populate_by_name=True)
    type: Literal["HostnameGeneratorCreation"]
    hostname_generator_creation: Toggle = Field(alias="hostnameGeneratorCreation")


Feature = Annotated[
    MeshCreationFeature | HostnameGeneratorCreationFeature, Field(discriminator="type")
]


def default_features() -> list[Feature]:
    return [
        MeshCreationFeature(type="MeshCreation", mesh_creation=Toggle(enabled=False)),
        HostnameGeneratorCreationFeature(
            type="HostnameGeneratorCreation",
            hostname_generator_creation=Toggle(enabled=False),
        ),
    ]


def complete_features(given: list[Feature] | None) -> list[Feature]:
    """Every feature type present once: the given ones, the defaults for the rest."""
    by_type = {f.type: f for f in default_features()}
    for feature in given or []:
        by_type[feature.type] = feature
    return list(by_type.values())


def _unique_feature_types(features: list[Feature] | None) -> list[Feature] | None:
    if features is not None:
        types = [f.type for f in features]
        if len(types) != len(set(types)):
            raise ValueError("each feature type may appear once")
    return features


class ControlPlaneCreate(StrictModel):
    name: ControlPlaneName
    description: Description = ""
    labels: Labels = Field(default_factory=dict)
    features: list[Feature] | None = Field(
        default=None,
        description="Set at creation only. Missing feature types take their defaults"
        " (both disabled).",
    )

    _features_unique = field_validator("features")(_unique_feature_types)


class ControlPlaneReplace(StrictModel):
    name: ControlPlaneName
    description: Description = ""
    labels: Labels = Field(default_factory=dict)
    features: list[Feature] | None = Field(
        default=None, description="Must equal the stored features if given: they are immutable."
    )

    _features_unique = field_validator("features")(_unique_feature_types)


class ControlPlanePatch(StrictModel):
    name: ControlPlaneName | None = None
    description: Description | None = None
    labels: Labels | None = None


class ControlPlane(Timestamps):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)
    id: UUID
    name: str
    description: str
    labels: dict[str, str]
    features: list[Feature]


class ControlPlaneFields(BaseModel):
    """What the store keeps of a control plane, besides id, org and timestamps."""

    name: str
    description: str
    labels: dict[str, str]
    features: list[Feature]
