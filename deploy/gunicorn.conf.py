"""Gunicorn settings for Junkai (docs/deploy.md). Every value may be set in the environment
(/etc/junkai/junkai.env under systemd); the defaults suit one server behind nginx."""

from __future__ import annotations

import os

from junkai.serving.gunicorn_logging import JsonLogger

wsgi_app = "junkai.wsgi:application"

# nginx proxies to this address on the same host; set JUNKAI_BIND to a socket or another address.
bind = os.environ.get("JUNKAI_BIND", "127.0.0.1:8000").split(",")

# Sync workers: requests are short database round trips, PDFs and exports are CPU-bound, and a
# worker per core (plus one) keeps PostgreSQL's connection count small and predictable.
workers = int(os.environ.get("JUNKAI_WORKERS", str((os.cpu_count() or 1) + 1)))
worker_class = "sync"

# A request may run this long (a station's monthly report, route planning) before the worker
# is replaced; the proxy's read timeout (deploy/nginx/junkai.conf) is a little longer.
timeout = int(os.environ.get("JUNKAI_TIMEOUT", "120"))
graceful_timeout = int(os.environ.get("JUNKAI_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Recycle workers now and then so a slow leak never builds up; jitter keeps them from all
# restarting at once.
max_requests = int(os.environ.get("JUNKAI_MAX_REQUESTS", "2000"))
max_requests_jitter = 200

# Only the proxy's address may set X-Forwarded-* (the scheme gunicorn reports, and which
# Django reads through SECURE_PROXY_SSL_HEADER). Never "*".
forwarded_allow_ips = os.environ.get("JUNKAI_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Logs: JSON lines on stdout (access) and stderr (everything else), for journald.
logger_class = JsonLogger
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("JUNKAI_GUNICORN_LOG_LEVEL", "info")
# No control socket (gunicornc): systemd signals the master (HUP reloads, TERM stops), and the
# default place ($HOME/.gunicorn) is read-only under the unit's ProtectSystem=strict.
control_socket_disable = True

# Worker temp files in memory: /tmp may be private and small under systemd.
worker_tmp_dir = "/dev/shm"  # noqa: S108

# TLS in gunicorn itself is for the smoke test only; in production nginx terminates TLS.
if certfile := os.environ.get("JUNKAI_TLS_CERT"):
    keyfile = os.environ["JUNKAI_TLS_KEY"]


def post_worker_init(worker: object) -> None:
    """Load every view before the first request: the first officer of each new worker would
    otherwise wait seconds for the URL configuration (the API, the PDF and routing modules)."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018
