"""Password hashing with Argon2id at OWASP's recommended minimum (19 MiB, t=2, p=1).

Werkzeug's default scrypt cost is below OWASP's minimum, so it is not used.
"""
from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 128

PARAMETERS = {"time_cost": 2, "memory_cost": 19 * 1024, "parallelism": 1, "hash_len": 32, "salt_len": 16,
              "type": Type.ID}
_hasher = PasswordHasher(**PARAMETERS)
# Verified against when the account does not exist, so both paths take the same time.
_DUMMY = _hasher.hash("not-a-real-password-0000")


def password_problem(password: str | None) -> str | None:
    """The reason a new password is refused, in the words shown to the user, or None."""
    if not password or len(password) < MIN_LENGTH:
        return f"密码至少 {MIN_LENGTH} 个字符"
    if len(password) > MAX_LENGTH:
        return f"密码最多 {MAX_LENGTH} 个字符"
    if password.strip() == "" or len(set(password)) < 4:
        return "密码过于简单"
    return None


def hash_password(password: str) -> str:
    problem = password_problem(password)
    if problem:
        raise ValueError(problem)
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
