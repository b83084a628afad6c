"""Events of the accounts app."""
from dataclasses import dataclass

from marketplace.core.events import Event


@dataclass(frozen=True, kw_only=True)
class UserRegistered(Event):
    name = "user_registered"
    description = "A member registered an account (payload: user_id, email)."
    user_id: int
    email: str


@dataclass(frozen=True, kw_only=True)
class UserEmailConfirmed(Event):
    name = "user_email_confirmed"
    description = "A member confirmed their e-mail address (payload: user_id, email)."
    user_id: int
    email: str


@dataclass(frozen=True, kw_only=True)
class PasswordChanged(Event):
    name = "password_changed"
    description = "A user changed or reset their password (payload: user_id)."
    user_id: int


EVENTS = [UserRegistered, UserEmailConfirmed, PasswordChanged]
