"""Calendar arithmetic of the rules: periods that count both ends, and ages.

Every period here includes its first and its last day (DESIGN.md "Periods count both ends"):
a three-year period from 1 January 2024 ends on 31 December 2026, six months from 1 January
2024 end on 30 June 2024. A day that does not exist in the target month (29 February in a
common year, 31 April) moves to the first day of the next month, as an anniversary on
29 February becomes 1 March.
"""

from __future__ import annotations

from datetime import date, timedelta


def anniversary(start: date, years: int) -> date:
    """``start`` moved ``years`` years on; 29 February becomes 1 March in a common year."""
    return months_later(start, 12 * years)


def months_later(start: date, months: int) -> date:
    """``start`` moved ``months`` months on; a day past the month's end becomes the 1st of the
    month after (31 August + 6 months = 1 March)."""
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    try:
        return date(year, month + 1, start.day)
    except ValueError:
        return date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)


def last_day_of_period(start: date, years: int) -> date:
    """The last day of a period of ``years`` years starting on ``start``, both ends included.

    A three-year period starting 1 January 2024 ends on 31 December 2026.
    """
    return anniversary(start, years) - timedelta(days=1)


def last_day_of_months(start: date, months: int) -> date:
    """The last day of a period of ``months`` months starting on ``start``, both ends included.

    Six months starting 1 January 2024 end on 30 June 2024.
    """
    return months_later(start, months) - timedelta(days=1)


def days_in(start: date, end: date) -> int:
    """How many days the period ``start`` .. ``end`` lasts, both ends counted (0 if reversed)."""
    return max((end - start).days + 1, 0)


def is_adult_on(birth: date | None, day: date, age: int = 18) -> bool:
    """Whether someone born on ``birth`` is ``age`` or older on ``day``.

    An unknown birth date counts as adult (DOMAIN.md quota reading: "18 and older → 16").
    """
    return birth is None or day >= anniversary(birth, age)
