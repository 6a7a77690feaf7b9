"""An entry's date as listings show it: "Feb 2019", "2012", or nothing."""

MONTH_ABBR = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def month_year(year, month=None):
    """ "Feb 2019", "2012", or "" when undated."""
    if year is None:
        return ""
    return f"{MONTH_ABBR[month - 1]} {year}" if month else str(year)


class MonthYearMixin:
    """How an entry's date reads, from its ``year`` and ``month``."""

    @property
    def date_label(self):
        return month_year(self.year, self.month)

    @property
    def datetime_attr(self):
        """For <time datetime>: "2019-02" or "2012"."""
        if self.year is None:
            return ""
        return f"{self.year:04d}-{self.month:02d}" if self.month else f"{self.year:04d}"
