"""Observability: Prometheus metrics, the /health endpoint, alert rules and a dashboard."""

from monitoring.health import HealthCheck, HealthServer
from monitoring.metrics import Metrics

__all__ = ["HealthCheck", "HealthServer", "Metrics"]
