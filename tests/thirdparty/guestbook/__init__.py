"""Guestbook: members sign a guestbook; new members get a welcome entry."""
