"""Kuma's error document (`/std-errors`), which kumactl and the Kuma GUI understand."""

from __future__ import annotations

from collections.abc import Iterable

import orjson
from starlette.responses import Response

from meshmanager.model.resources.validation.base import Violation

RESOURCE_NOT_VALID = "Resource is not valid"


class KumaError(Exception):
    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        violations: Iterable[Violation] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{title}: {detail}")
        self.status = status
        self.title = title
        self.detail = detail
        self.violations = list(violations)
        self.headers = headers

    def response(self) -> Response:
        body: dict[str, object] = {
            "type": "/std-errors",
            "status": self.status,
            "title": self.title,
            "detail": self.detail,
        }
        if self.violations:
            body["invalid_parameters"] = [
                {"field": v.field, "reason": v.message} for v in self.violations
            ]
        body["details"] = self.detail
        if self.violations:
            body["causes"] = [{"field": v.field, "message": v.message} for v in self.violations]
        return Response(
            orjson.dumps(body),
            status_code=self.status,
            media_type="application/json",
            headers=self.headers,
        )


def invalid(title: str, violations: Iterable[Violation]) -> KumaError:
    return KumaError(400, title, RESOURCE_NOT_VALID, violations)


def not_found(title: str) -> KumaError:
    return KumaError(404, title, "Not found")


GLOBAL_READ_ONLY = (
    "On global control plane you can not modify dataplane resources with 'kumactl apply' or"
    " via the HTTP API. You can still use 'kumactl' or the HTTP API to modify them on the zone"
    " control plane.\n"
)


def method_not_allowed() -> KumaError:
    return KumaError(405, "Method not allowed", GLOBAL_READ_ONLY)
