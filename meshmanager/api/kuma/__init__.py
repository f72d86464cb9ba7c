"""The Kuma API of each control plane, at /v1/mesh/control-planes/{cpId}/api."""
