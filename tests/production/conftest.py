"""Production fixtures: the audit command line (shared with tests/audit)."""

from tests.audit.conftest import audit_cli

__all__ = ["audit_cli"]
