from __future__ import annotations

from typing import Any

from django import template

from junkai.ops.status import job_states

register = template.Library()


@register.inclusion_tag("ops/_jobs_panel.html")
def jobs_panel() -> dict[str, Any]:
    """「定期処理」: when each job last ran; a late or failed one flagged."""
    return {"states": job_states()}
