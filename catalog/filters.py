"""The filters a tag or intersection page accepts: the same names, values
and validation as /studies/ (``studies.filters.StudyFilter`` builds on the
constants here). An invalid value is left out and explained next to its
field; it never fails the page."""

from urllib.parse import urlencode

from django import forms
from django.http import QueryDict

from . import registry

YEAR_BOUNDS = {"min_value": 1000, "max_value": 2999}
SORT_CHOICES = [("newest", "Newest first"), ("oldest", "Oldest first"), ("title", "Title A–Z")]
FILTER_NAMES = ("type", "year_min", "year_max", "sort")


class ListingFilterForm(forms.Form):
    type = forms.MultipleChoiceField(label="Study type", required=False, widget=forms.CheckboxSelectMultiple)
    year_min = forms.IntegerField(label="From year", required=False, **YEAR_BOUNDS)
    year_max = forms.IntegerField(label="To year", required=False, **YEAR_BOUNDS)
    sort = forms.ChoiceField(label="Sort", required=False, choices=SORT_CHOICES)

    def __init__(self, data=None, **kwargs):
        super().__init__(data if data is not None else QueryDict(), **kwargs)
        self.fields["type"].choices = registry.type_choices()

    @property
    def values(self):
        """The valid filters only: {"types": […], "year_min", "year_max", "sort"}."""
        if not hasattr(self, "_values"):
            self.is_valid()
            cleaned = {name: self.cleaned_data.get(name) for name in FILTER_NAMES if name not in self.errors}
            self._values = {
                "types": cleaned.get("type") or [],
                "year_min": cleaned.get("year_min"),
                "year_max": cleaned.get("year_max"),
                "sort": cleaned.get("sort") or "newest",
            }
        return self._values

    @property
    def narrows(self):
        """Whether a filter leaves some entries out (the sort does not)."""
        values = self.values
        return bool(values["types"] or values["year_min"] is not None or values["year_max"] is not None)

    def query(self, **changes):
        """The address's query string with ``changes`` (None removes a name;
        a list sets every value), page dropped: for remove links and facets."""
        # Pairs, not a copy of the QueryDict (a deep copy): a tag page asks
        # for dozens of these (facets, every year of its timeline).
        pairs = [(name, values) for name, values in self.data.lists() if name != "page" and name not in changes]
        for name, value in changes.items():
            if value is not None:
                pairs.append((name, value if isinstance(value, list) else [value]))
        return "?" + urlencode(pairs, doseq=True) if pairs else "?"

    def applied(self):
        """(label, value, address without it) for each valid filter in force."""
        values, applied = self.values, []
        labels = dict(self.fields["type"].choices)
        for value in values["types"]:
            rest = [other for other in values["types"] if other != value]
            applied.append(("Type", labels[value], self.query(type=rest or None)))
        if values["year_min"] is not None:
            applied.append(("From", str(values["year_min"]), self.query(year_min=None)))
        if values["year_max"] is not None:
            applied.append(("To", str(values["year_max"]), self.query(year_max=None)))
        if values["sort"] != "newest":
            applied.append(("Sort", dict(SORT_CHOICES)[values["sort"]], self.query(sort=None)))
        return applied
