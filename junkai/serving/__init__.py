"""Serving in production: health probes, request ids, JSON log lines (docs/deploy.md)."""
