from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:  # noqa: ANN001
    """These tests sign up and log in many times and check what the pages say, not how strong the
    hash is; MD5 first makes each attempt cost microseconds instead of a third of a second on our
    two cores. PBKDF2 stays listed so that any hash made before this fixture ran still verifies."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
