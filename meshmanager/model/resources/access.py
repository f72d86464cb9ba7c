"""The kinds of access a Kong Mesh AccessRole grants (developer.konghq.com/mesh/rbac)."""

ACCESS = (
    "CREATE",
    "UPDATE",
    "DELETE",
    "GENERATE_DATAPLANE_TOKEN",
    "GENERATE_USER_TOKEN",
    "GENERATE_ZONE_CP_TOKEN",
    "GENERATE_ZONE_TOKEN",
    "VIEW_CONFIG_DUMP",
    "VIEW_STATS",
    "VIEW_CLUSTERS",
)
