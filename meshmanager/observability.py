"""Metrics and structured logging shared by every layer."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import platform
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from meshmanager import __version__

REGISTRY = CollectorRegistry(auto_describe=True)

BUILD_INFO = Gauge(
    "meshmanager_build_info",
    "Build information; the value is always 1.",
    ["version", "python"],
    registry=REGISTRY,
)
BUILD_INFO.labels(__version__, platform.python_version()).set(1)

HTTP_REQUESTS = Counter(
    "meshmanager_http_requests_total",
    "HTTP requests by route template, method and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "meshmanager_http_request_duration_seconds",
    "HTTP request latency by route template and method.",
    ["method", "route"],
    registry=REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
STORE_OPERATIONS = Counter(
    "meshmanager_store_operations_total",
    "Store operations by name and outcome (ok or error).",
    ["operation", "outcome"],
    registry=REGISTRY,
)
STORE_LATENCY = Histogram(
    "meshmanager_store_operation_duration_seconds",
    "Store operation latency by name.",
    ["operation"],
    registry=REGISTRY,
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
)


@contextlib.contextmanager
def store_operation(name: str) -> Iterator[None]:
    """Counts and times one store operation."""
    start = time.perf_counter()
    outcome = "error"
    try:
        yield
        outcome = "ok"
    finally:
        STORE_LATENCY.labels(name).observe(time.perf_counter() - start)
        STORE_OPERATIONS.labels(name, outcome).inc()


request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request id when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


def log_fields(**fields: Any) -> dict[str, Any]:
    """`extra=` for a log call whose fields go into the JSON line."""
    return {"fields": fields}
