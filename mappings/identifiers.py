"""Belgian identifier checks: INSZ/BIS (people) and RIZIV/NIHDI (providers, facilities).

The check functions take the exact wire form (11 digits, no separators): the event
contract does not allow the dotted display form, so a value with separators is a format
error reported by the JSON Schema, not a check-digit error.
"""

from __future__ import annotations

import re

from stdnum.be import bis, nn

_ELEVEN_DIGITS = re.compile(r"[0-9]{11}")


def is_eleven_digits(value: object) -> bool:
    """Tell whether ``value`` is a string of exactly 11 ASCII digits."""
    return isinstance(value, str) and _ELEVEN_DIGITS.fullmatch(value) is not None


def is_valid_insz(value: str) -> bool:
    """Tell whether ``value`` is a valid INSZ (national register) or BIS number.

    python-stdnum checks the birth date part and the check digits, including the
    ``2`` prefix for births from 2000 on and the +20/+40 month of BIS numbers.
    """
    if not is_eleven_digits(value):
        return False
    return bool(nn.is_valid(value)) or bool(bis.is_valid(value))


def is_valid_nihdi(value: str) -> bool:
    """Tell whether ``value`` is a valid RIZIV/NIHDI number (provider or facility).

    Eleven digits: six identifying digits, a check pair, three qualification digits.
    The check pair is 97 - (first six digits mod 97); newer numbers use the modulo-89
    variant 89 - (first six digits mod 89). Both are accepted: the adapter cannot know
    which scheme issued a number, and the central application has the final word.
    """
    if not is_eleven_digits(value):
        return False
    base, check = int(value[:6]), int(value[6:8])
    return check in (97 - base % 97, 89 - base % 89)


def mask_insz(value: str) -> str:
    """Mask an INSZ/BIS number for logs: every character but the last two becomes ``*``."""
    if len(value) <= 2:
        return "*" * len(value)
    return "*" * (len(value) - 2) + value[-2:]
