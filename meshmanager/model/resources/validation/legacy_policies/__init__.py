"""Validators of Kuma's old-style (protobuf) policies with source/destination selectors.

The body of such a policy is protojson. Each validator decodes it the way Kuma's decoder
does (see `protojson`), reports structural problems with schema messages, and otherwise
runs the rules of the type's Kuma `Validate()` on the decoded form.
"""
