"""API tokens for devices and scripts (Authorization: Bearer)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """Only the SHA-256 of a token is stored; the token itself is shown once, at issue."""

    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name="職員",
    )
    key_hash = models.CharField(max_length=64, unique=True)
    # The officer's session hash at issue (password, session generation, assignments valid
    # that day): a password change, a transfer, or the day a dated transfer takes effect
    # changes it and so ends the token, exactly as it ends his browser sessions.
    auth_hash = models.CharField(max_length=64, default="")
    created_at = models.DateTimeField("発行日時")
    expires_at = models.DateTimeField("有効期限")
    revoked_at = models.DateTimeField("失効日時", null=True, blank=True)
    last_used_at = models.DateTimeField("最終利用", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "APIトークン"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"APIトークン #{self.pk}"


class SignInFailure(models.Model):
    """A failed sign-in, for throttling password spraying (junkai/accounts/throttle.py): keyed
    digests only, never the typed ID (often a mistyped password) nor the address in clear.
    Rows older than the throttle's window are deleted as new ones come."""

    at = models.DateTimeField(db_index=True)
    source = models.CharField(max_length=32)
    attempt = models.CharField(max_length=32)

    class Meta:
        indexes = [models.Index(fields=["source", "at"], name="signin_failure_source_at")]

    def __str__(self) -> str:
        return f"サインイン失敗 {self.at:%Y-%m-%d %H:%M:%S}"
