"""Validators of Kuma's old-style (protobuf) core types: Mesh, Dataplane, ZoneIngress,
ZoneEgress, MeshGateway and MeshGatewayRoute.

Their bodies are flat protojson objects. Field names may be written as the JSON name
(lowerCamelCase) or the proto name (snake_case), as Kuma's decoder accepts both; the
paths in semantic violations are Kuma's fixed ones, whatever spelling the input used.
"""
