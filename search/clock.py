"""The current time for "open now" (tests replace `now` to pin a weekday and hour)."""
from django.utils import timezone


def now():
    return timezone.now()
