"""The period a dashboard shows: whole local days, and their bounds in time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import ClassVar

from django.utils import timezone

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Period:
    """Whole days from ``start`` to ``end`` (both included), in local time."""

    start: date
    end: date
    MAX_DAYS: ClassVar[int] = 366

    def __post_init__(self):
        if self.end < self.start:
            raise ValueError("The period ends before it starts.")
        if len(self) > self.MAX_DAYS:
            raise ValueError(f"A period is at most {self.MAX_DAYS} days.")

    @classmethod
    def last(cls, days: int, *, today: date | None = None) -> Period:
        """The ``days`` days that end today."""
        today = today or timezone.localdate()
        return cls(start=today - timedelta(days=days - 1), end=today)

    def __len__(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(len(self))]

    @property
    def start_at(self) -> datetime:
        return midnight(self.start)

    @property
    def end_at(self) -> datetime:
        """The first moment after the period."""
        return midnight(self.end + DAY)

    def previous(self) -> Period:
        """The period of the same length that ends the day before this one."""
        return Period(start=self.start - len(self) * DAY, end=self.start - DAY)

    def as_dict(self) -> dict:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "days": len(self),
        }


def midnight(day: date) -> datetime:
    """The moment ``day`` starts, in local time."""
    return timezone.make_aware(datetime.combine(day, time.min))
