"""Log lines as JSON, one object per line, each with the request's id and the officer's.

Fields: time (UTC, ISO 8601), level, logger, message, request_id, officer_id, and for access
lines method, path, status, bytes, duration_ms (a request that found the database out of reach:
method, path, status, database, retried — junkai/serving/retry.py). Never personal data: messages name paths, ids
and rules, never a resident; and never a query string (a search by name puts the name there),
so any "?…" in a message is cut before it is written.
"""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

#: Set by junkai.serving.middleware.RequestIdMiddleware for the length of one request.
request_id_var: ContextVar[str | None] = ContextVar("junkai_request_id", default=None)
officer_id_var: ContextVar[int | None] = ContextVar("junkai_officer_id", default=None)
#: The same two in the WSGI environ, for lines written after the middleware returned (Django's
#: own request log, gunicorn's access line): Django's request.META is gunicorn's environ dict.
ENVIRON_REQUEST_ID = "junkai.request_id"
ENVIRON_OFFICER_ID = "junkai.officer_id"

ENVIRONS = {"request_id": ENVIRON_REQUEST_ID, "officer_id": ENVIRON_OFFICER_ID}
#: Extra fields (logger.info(..., extra={...})) that a line may carry beyond the fixed ones.
EXTRA_FIELDS = ("method", "path", "status", "bytes", "duration_ms", "database", "retried")

# A path followed by a query string, as Django's and the libraries' messages print URLs.
_QUERY = re.compile(r"(/[^\s?\"'<>]*)\?[^\s\"'<>]*")


def strip_query(text: str) -> str:
    return _QUERY.sub(r"\1", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": strip_query(record.getMessage()),
            "request_id": self._field(record, "request_id", request_id_var.get()),
            "officer_id": self._field(record, "officer_id", officer_id_var.get()),
        }
        for field in EXTRA_FIELDS:
            if (value := getattr(record, field, None)) is not None:
                entry[field] = strip_query(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = strip_query(self.formatException(record.exc_info))
        # One line per entry: json.dumps escapes the newlines of a traceback.
        return json.dumps(entry, ensure_ascii=False, default=str)

    @staticmethod
    def _field(record: logging.LogRecord, name: str, current: Any) -> Any:
        if (value := getattr(record, name, None)) is not None:
            return value
        # Django logs a request's outcome (django.request: "Not Found: /…") after the
        # middleware has returned, with the request attached: its environ keeps the ids.
        meta = getattr(getattr(record, "request", None), "META", None)
        if isinstance(meta, dict) and (value := meta.get(ENVIRONS[name])) is not None:
            return value
        return current
