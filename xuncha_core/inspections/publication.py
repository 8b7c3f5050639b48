"""When an inspection result must be on the public page (一公开).

A result is published within 20 working days of being produced (企业信息公示暂行条例
art. 6), counted with the Chinese working-day calendar (holidays and make-up
weekend days, ``xuncha_core.workdays``). For a year whose holiday notice is not in
the calendar yet the due date is an estimate counted Monday to Friday, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from xuncha_core.errors import ValidationError
from xuncha_core.workdays import CHINA, WorkCalendar

PUBLICATION_WORKING_DAYS = 20


@dataclass(frozen=True)
class PublicationDue:
    due: date
    estimated: bool  # True when a year's holiday schedule was unknown

    def status(self, today: date, published_on: date | None = None) -> str:
        """"published", "published_late", "overdue" or "due"."""
        if published_on is not None:
            return "published" if published_on <= self.due else "published_late"
        return "overdue" if today > self.due else "due"


def publication_due(inspected_on: date, calendar: WorkCalendar = CHINA) -> PublicationDue:
    """The last day the result of an inspection on ``inspected_on`` may be published."""
    day, left, estimated = inspected_on, PUBLICATION_WORKING_DAYS, False
    while left:
        day += timedelta(days=1)
        try:
            working = calendar.is_working_day(day)
        except ValidationError as exc:
            if exc.code != "calendar.year_unknown":
                raise
            working, estimated = day.weekday() < 5, True
        left -= working
    return PublicationDue(day, estimated)
