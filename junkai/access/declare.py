"""Each view declares its access rule; a test walks every URL pattern and API operation and
fails on a view that declares none (junkai/web/tests/test_access_walk.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

# --- declaring each view's rule --------------------------------------------------------

F = TypeVar("F", bound=Callable[..., Any])

#: The rules a view may declare; the URL walk test knows what each one allows.
RULES = {
    "public": "誰でも（サインイン前の画面）",
    "signed_in": "サインインした職員（本人の情報のみ）",
    "station_admin": "署長・地域課長（所属署の組織管理）",
    "post_manager": "管理責任者（地域課長・幹部交番所長）の所管する交番等",
    "scoped": "access.py の関数で範囲を確かめる個人情報の画面",
    "superuser": "システム管理者のみ",
    "dashboard": "進捗状況（署長・地域課長・代理、交番所長は所属の交番等、本部は署単位の集計）",
}


def declare_access(rule: str) -> Callable[[F], F]:
    if rule not in RULES:
        raise ValueError(f"unknown access rule {rule!r}")

    def mark(view: F) -> F:
        view.junkai_access = rule  # type: ignore[attr-defined]
        return view

    return mark
