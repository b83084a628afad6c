from dataclasses import dataclass

from marketplace.plugins import Event


@dataclass(frozen=True, kw_only=True)
class GuestbookSigned(Event):
    name = "guestbook_signed"
    description = "Somebody signed the guestbook (payload: entry_id)."
    entry_id: int
