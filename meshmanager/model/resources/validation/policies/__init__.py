"""Validators of Kuma's new-style targetRef policies (MeshTimeout, MeshRetry, ...).

Each policy has its own module registering one validator; the pieces they share
(targetRef, matches, value checks, JSON patches) live beside them.
"""
