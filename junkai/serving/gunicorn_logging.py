"""Gunicorn's own log lines (deploy/gunicorn.conf.py names JsonLogger) in the app's JSON form.

The access line names the path without its query string, and the request id and officer of
the request, which the app left in the WSGI environ (junkai.serving.middleware).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from gunicorn import glogging

from junkai.serving.logs import ENVIRON_OFFICER_ID, ENVIRON_REQUEST_ID, JsonFormatter


class JsonLogger(glogging.Logger):  # type: ignore[misc]
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if getattr(handler, "_gunicorn", False):
                    handler.setFormatter(JsonFormatter())

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        status = resp.status
        status = int(str(status).split(None, 1)[0]) if status else None
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "")
        elapsed: dt.timedelta = request_time
        self.access_log.log(
            logging.INFO,
            "%s %s %s",
            method,
            path,
            status,
            extra={
                "method": method,
                "path": path,
                "status": status,
                "bytes": getattr(resp, "sent", None),
                "duration_ms": round(elapsed.total_seconds() * 1000, 1),
                "request_id": environ.get(ENVIRON_REQUEST_ID),
                "officer_id": environ.get(ENVIRON_OFFICER_ID),
            },
        )
