"""The one shape of a refused request in the API, in Japanese:

    {"detail": "入力内容に誤りがあります", "errors": {"field": ["message", ...]}}

from an action's ValidationError, from a request that does not match its schema (pydantic's
English messages are replaced by Japanese ones naming what is wrong), and from the few checks
an operation makes itself. Every operation documents it for 422 (`ErrorsOut`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

INVALID = "入力内容に誤りがあります"

#: Where a message belongs to no one field.
GENERAL = "__all__"

#: ninja's own refusals by status, in Japanese.
HTTP_ERROR_DETAILS = {
    400: "リクエストの本文をJSONとして読めません",
    405: "この操作はこのメソッドでは行えません",
    413: "リクエストが大きすぎます（2.5MB以内にしてください）",
    429: "しばらく待ってから再度お試しください",
}


#: The database out of reach (junkai/serving/unavailable.py): 503 with Retry-After.
UNAVAILABLE_READ = (
    "データベースに接続できません。Retry-After の秒数だけ待ってから再度お試しください"
)
UNAVAILABLE_WRITE = (
    "データベースに接続できず、処理を完了できませんでした。保存されたかどうかを確かめてから"
    "送り直してください（同期の送信は同じ client_id のまま送り直せます）"
)


def unavailable_body(write: bool) -> dict[str, Any]:
    """The 503 body: a read may simply be sent again; a write may or may not have been saved.
    No field is wrong (`errors` empty, as for 410): the detail says it all, once."""
    return error_body({}, detail=UNAVAILABLE_WRITE if write else UNAVAILABLE_READ)


def error_body(
    errors: Mapping[str, str | Sequence[str]], *, detail: str = INVALID
) -> dict[str, Any]:
    """The 422 body: each field's messages as a list."""
    return {
        "detail": detail,
        "errors": {
            field: [messages] if isinstance(messages, str) else list(messages)
            for field, messages in errors.items()
        },
    }


def invalid_body(exc: ValidationError) -> dict[str, Any]:
    """A django ValidationError (from an action) as the 422 body."""
    if hasattr(exc, "error_dict"):
        by_field = {
            (GENERAL if k == NON_FIELD_ERRORS else k): v for k, v in exc.message_dict.items()
        }
    else:
        by_field = {GENERAL: exc.messages}
    return error_body(by_field)


def _limit(ctx: Mapping[str, Any], key: str) -> str:
    return str(ctx.get(key, ""))


def schema_message(error: Mapping[str, Any]) -> str:
    """pydantic's error, in Japanese: what is wrong with the value and what is expected."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "必須の項目です。入力してください"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "整数で指定してください"
    if kind in ("float_parsing", "float_type", "decimal_parsing", "decimal_type"):
        return "数値で指定してください"
    if kind in ("string_type", "string_unicode"):
        return "文字列で指定してください"
    if kind == "string_too_long":
        return f"{_limit(ctx, 'max_length')}文字以内で入力してください"
    if kind == "string_too_short":
        return f"{_limit(ctx, 'min_length')}文字以上で入力してください"
    if kind == "too_long":
        return f"{_limit(ctx, 'max_length')}件以内で指定してください"
    if kind == "too_short":
        return f"{_limit(ctx, 'min_length')}件以上で指定してください"
    if kind == "greater_than_equal":
        return f"{_limit(ctx, 'ge')}以上で指定してください"
    if kind == "greater_than":
        return f"{_limit(ctx, 'gt')}より大きい値で指定してください"
    if kind == "less_than_equal":
        return f"{_limit(ctx, 'le')}以下で指定してください"
    if kind == "less_than":
        return f"{_limit(ctx, 'lt')}より小さい値で指定してください"
    if kind.startswith("datetime"):
        return "日時の形式が正しくありません（例: 2026-06-10T10:00:00+09:00）"
    if kind.startswith("date"):
        return "日付の形式が正しくありません（例: 2026-06-10）"
    if kind.startswith("time"):
        return "時刻の形式が正しくありません（例: 10:00）"
    if kind in ("bool_parsing", "bool_type"):
        return "true か false で指定してください"
    if kind in ("enum", "literal_error"):
        return f"次のいずれかを指定してください: {_limit(ctx, 'expected')}"
    if kind in ("list_type", "tuple_type", "set_type"):
        return "配列で指定してください"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "オブジェクトで指定してください"
    if kind == "json_invalid":
        return "JSONとして読めません"
    if kind == "extra_forbidden":
        return "この項目は指定できません"
    if kind == "value_error":
        # Our own validators raise Japanese messages; pydantic prefixes them.
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        return message if message and not message.isascii() else "値が正しくありません"
    return "値が正しくありません"


def schema_field(loc: Sequence[Any], param_names: Iterable[str] = ("payload", "params")) -> str:
    """The field a schema error names, as the actions name theirs (`concerns.0.kind`): the
    place (body, query, path) and the operation's parameter name left out."""
    parts = [str(p) for p in loc[1:]]
    if parts and parts[0] in set(param_names) and len(parts) > 1:
        parts = parts[1:]
    return ".".join(parts) or GENERAL


def schema_errors_body(errors: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A request that does not match its schema, as the 422 body."""
    by_field: dict[str, list[str]] = {}
    for error in errors:
        by_field.setdefault(schema_field(error.get("loc", ())), []).append(schema_message(error))
    return error_body(by_field)
