"""Staff log in with their username or their email address (case-insensitive)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest


class UsernameOrEmailBackend(ModelBackend):
    def authenticate(  # type: ignore[override]  # same contract; stubs narrow it to User
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> AbstractBaseUser | None:
        login = (username or kwargs.get("email") or "").strip()
        if not login or password is None:
            return None
        user_model = get_user_model()
        user = user_model._default_manager.filter(username=login).first()
        if user is None and "@" in login:
            # Emails are not unique in django.contrib.auth: an ambiguous address logs nobody in.
            matches = list(user_model._default_manager.filter(email__iexact=login)[:2])
            user = matches[0] if len(matches) == 1 else None
        if user is None:
            user_model().set_password(password)  # same cost as a real check: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
