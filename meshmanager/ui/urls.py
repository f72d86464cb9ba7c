"""The console's URL map."""

from __future__ import annotations

from starlette.routing import Route

from meshmanager.ui import views_auth, views_cp, views_mesh, views_org, views_zones

GP = ["GET", "POST"]
CP = "/control-planes/{cp}"
MESH = CP + "/meshes/{mesh}"


def console_routes() -> list[Route]:
    return [
        Route("/", views_auth.root),
        Route("/login", views_auth.login, methods=GP),
        Route("/logout", views_auth.logout, methods=["POST"]),
        Route("/account", views_auth.account, methods=GP),
        Route("/control-planes", views_cp.cp_list),
        Route("/control-planes/_counters", views_cp.cp_rows),
        Route("/control-planes/new", views_cp.cp_new, methods=GP),
        Route(CP, views_cp.cp_overview),
        Route(CP + "/_live", views_cp.cp_stats_fragment),
        Route(CP + "/edit", views_cp.cp_edit, methods=GP),
        Route(CP + "/delete", views_cp.cp_delete, methods=["POST"]),
        Route(CP + "/zones", views_zones.zone_list),
        Route(CP + "/zones-new", views_zones.zone_new, methods=GP),
        Route(CP + "/zones-new/name", views_zones.zone_name_check),
        Route(CP + "/zones/{zone}", views_zones.zone_detail),
        Route(CP + "/zones/{zone}/_connection", views_zones.zone_connection),
        Route(CP + "/zones/{zone}/{kind}/{name}", views_zones.zone_proxy_detail),
        Route(CP + "/zones/{zone}/rotate", views_zones.zone_rotate, methods=["POST"]),
        Route(CP + "/zones/{zone}/delete", views_zones.zone_delete, methods=["POST"]),
        Route(CP + "/rbac", views_zones.rbac),
        Route(CP + "/rbac/{type}/{name}", views_zones.rbac_detail),
        Route(CP + "/apply", views_mesh.apply_yaml, methods=GP),
        Route(CP + "/delete-resource", views_mesh.delete_resource, methods=["POST"]),
        Route(CP + "/meshes", views_mesh.mesh_list),
        Route(CP + "/meshes-new", views_mesh.mesh_new, methods=GP),
        Route(MESH, views_mesh.mesh_overview),
        Route(MESH + "/services", views_mesh.mesh_services),
        Route(MESH + "/gateways", views_mesh.mesh_gateways),
        Route(MESH + "/dataplanes", views_mesh.mesh_dataplanes),
        Route(MESH + "/dataplanes/{name}", views_mesh.dataplane_detail),
        Route(MESH + "/dataplanes/{name}/envoy/{kind}", views_mesh.dataplane_envoy),
        Route(MESH + "/policies", views_mesh.policy_index),
        Route(MESH + "/policies/{type}/{name}", views_mesh.policy_detail),
        Route("/organization", views_org.org_list, methods=GP),
        Route("/organization/{kind}", views_org.org_list, methods=GP),
        Route("/organization/{kind}/{id}", views_org.subject_detail),
        Route("/organization/{kind}/{id}/action", views_org.subject_action, methods=["POST"]),
    ]
