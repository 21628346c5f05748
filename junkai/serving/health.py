"""Probes for the load balancer and systemd: no sign-in, no personal data, plain HTTP allowed.

/healthz: the process answers (no database). /readyz: the database answers and every migration
this code knows is applied (and, with the production storage, collectstatic has run): 503 with
the failing check otherwise, so a server mid-upgrade takes no traffic.
"""

from __future__ import annotations

import logging

from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from junkai.access.declare import declare_access

logger = logging.getLogger(__name__)

# Once every migration is applied it stays so for this process's code: later probes only ask
# the database to answer, instead of reading every migration file again.
_migrations_applied = False


def _database() -> str:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        logger.warning("readyz: データベースに接続できません", exc_info=True)
        return "unavailable"
    return "ok"


def _migrations() -> str:
    global _migrations_applied
    if not _migrations_applied:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            return "pending"
        _migrations_applied = True
    return "ok"


def _static_files() -> str:
    # The manifest storage answers every {% static %} from staticfiles.json: without it every
    # page is a 500.
    storage = staticfiles_storage
    if isinstance(storage, ManifestFilesMixin):
        return "ok" if storage.hashed_files else "missing"
    return "ok"


@declare_access("public")
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@declare_access("public")
@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database()}
    if checks["database"] == "ok":
        checks["migrations"] = _migrations()
    checks["static"] = _static_files()
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )
