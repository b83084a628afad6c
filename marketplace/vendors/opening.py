"""Opening hours in the business time zone."""
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def is_open(opening_hours, at: datetime):
    local = at.astimezone(ZoneInfo(settings.TIME_ZONE))
    hhmm = local.strftime("%H:%M")
    return any(start <= hhmm < end for start, end in (opening_hours or {}).get(DAYS[local.weekday()], []))
