"""Share codes and voucher codes: random (never sequential), short, easy to read aloud.

- share codes: 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L), ~40
  bits from `secrets`;
- voucher codes: 12 random digits and a Luhn check digit (13 digits), so a mistyped
  digit is caught before any lookup.
"""
import secrets

SHARE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
SHARE_LENGTH = 8
VOUCHER_DIGITS = 12


def share_code() -> str:
    return "".join(secrets.choice(SHARE_ALPHABET) for _ in range(SHARE_LENGTH))


def normalize_share_code(value) -> str:
    """Upper-case, without spaces or hyphens; '' for anything that cannot be a share code."""
    text = "".join(str(value or "").split()).replace("-", "").upper()
    if len(text) != SHARE_LENGTH or any(c not in SHARE_ALPHABET for c in text):
        return ""
    return text


def luhn_digit(digits: str) -> str:
    """The Luhn check digit for a string of digits."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:  # doubled: the rightmost payload digit sits next to the check digit
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def voucher_code() -> str:
    payload = "".join(secrets.choice("0123456789") for _ in range(VOUCHER_DIGITS))
    return payload + luhn_digit(payload)


def normalize_voucher_code(value) -> str:
    """The 13 digits of a voucher code typed with spaces or hyphens, or '' when it is not
    one (wrong length, not digits, or a failing check digit)."""
    text = "".join(ch for ch in str(value or "") if ch not in " -")
    if len(text) != VOUCHER_DIGITS + 1 or not text.isdigit():
        return ""
    return text if luhn_digit(text[:-1]) == text[-1] else ""


def format_voucher_code(code: str) -> str:
    """'1234 5678 9012 3' for display."""
    return " ".join(code[i:i + 4] for i in range(0, len(code), 4))
