"""Validators of Kuma's new-style core resources (MeshService, MeshExternalService, ...),
of Secret, GlobalSecret and Zone, and of Kong Mesh's access types.

The schemas here check names, JSON types and unknown fields. Where Kuma's own
`Validate()` checks a value (an enum, a port range, a required field), the schema leaves
it to the semantic rules so the violation carries Kuma's `Validate()` message, which is
what the conformance vectors record; CRD defaults are applied before those rules, as
Kuma's REST unmarshaller does.
"""
