"""Read-heavy work from a streaming replica (`DATABASE_REPLICA_URL`).

Work that only reads many rows and can stand a replica's lag of a second or so — HQ's
dashboard, the monthly report, exports, the misuse scan's reading of the audit log — runs
inside `replica_reads()`. There the router sends reads to the `replica` alias, except:

- reads inside a transaction on the primary (an action's `transaction.atomic`, the audit
  sealer) stay on the primary: what a transaction reads must be what it writes against;
- writes always go to the primary (a replica refuses them anyway).

So reads that must see one's own writes (sign-in, the session, the work list after a visit, a
card after its correction) never reach the replica: they run outside `replica_reads()`. Without
`DATABASE_REPLICA_URL` the alias is the primary itself and nothing changes; the tests point it at
the primary (Django's test MIRROR) and switch routing on where they check it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.db import connections

REPLICA = "replica"
PRIMARY = "default"

_reading = ContextVar("junkai_replica_reads", default=False)

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def replica_reads() -> Iterator[None]:
    """Reads in this block may come from the replica (see the module's rules)."""
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


def reads_from_replica(view: Callable[P, R]) -> Callable[P, R]:
    """A view (or function) whose reads may come from the replica."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with replica_reads():
            return view(*args, **kwargs)

    return wrapper


def routing_to_replica() -> bool:
    return bool(getattr(settings, "JUNKAI_READ_REPLICA", False)) and REPLICA in settings.DATABASES


def _in_transaction() -> bool:
    # Django's TestCase wraps each test in atomic blocks of its own (flagged so): they are not
    # the app's transactions. In production this is `in_atomic_block`.
    return any(
        not getattr(block, "_from_testcase", False) for block in connections[PRIMARY].atomic_blocks
    )


class ReplicaRouter:
    """Django's database router for the rules above."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str | None:
        if _reading.get() and routing_to_replica() and not _in_transaction():
            return REPLICA
        return PRIMARY

    def db_for_write(self, model: type[Any], **hints: Any) -> str | None:
        return PRIMARY

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        # Both aliases hold the same rows: an object read from the replica may be linked to
        # one of the primary (an audit event naming a household the report read).
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        # A replica follows the primary's schema by replication; any other alias is the
        # caller's to decide (Django's default: yes).
        return False if db == REPLICA else None
