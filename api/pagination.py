"""Cursor pagination on the listing's whole ordering key.

DRF's CursorPagination keeps only the first ordering field in its cursor and
counts ties with an OFFSET; the listings here order on nullable years and on
month dates that thousands of entries share. This cursor carries the last
row's full key instead (year, month, id or sort date, entry id), so the next
page is one keyset query whatever its depth, and nothing is ever counted.
Forward only: ``next`` is null on the last page.
"""

import base64
import binascii
import datetime
import json

from django.conf import settings
from django.db.models import Q
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param


class Key:
    """One field of an ordering: its lookup, the attribute path on a row, the direction."""

    def __init__(self, lookup, kind=int, *, descending=False, nullable=False, attribute=None):
        self.lookup = lookup
        self.kind = kind
        self.descending = descending
        self.nullable = nullable
        self.attribute = attribute or lookup.replace("__", ".")

    def value_of(self, row):
        value = row
        for part in self.attribute.split("."):
            value = getattr(value, part)
        return value if value is None or isinstance(value, int | str) else str(value)

    def parse(self, value):
        """A value from a cursor, checked: ValueError unless it is one this key can hold."""
        if value is None and self.nullable:
            return None
        if self.kind is int and type(value) is int and abs(value) < 2**31:
            return value
        if self.kind is str and isinstance(value, str) and len(value) <= 1000 and "\x00" not in value:
            return value
        if self.kind is datetime.date and isinstance(value, str):
            return datetime.date.fromisoformat(value).isoformat()
        raise ValueError(value)

    def equal(self, value):
        return Q(**{f"{self.lookup}__isnull": True}) if value is None else Q(**{self.lookup: value})

    def after(self, value):
        """Rows this key puts after ``value`` (nulls last in both directions)."""
        if value is None:
            return None
        after = Q(**{f"{self.lookup}__{'lt' if self.descending else 'gt'}": value})
        return after | Q(**{f"{self.lookup}__isnull": True}) if self.nullable else after


def keyset_after(keys, position):
    """Rows after ``position`` in the lexicographic order of ``keys``."""
    condition = Q(pk__in=[])
    equal = Q()
    for key, value in zip(keys, position, strict=True):
        after = key.after(value)
        if after is not None:
            condition |= equal & after
        equal &= key.equal(value)
    return condition


class KeysetPagination(CursorPagination):
    """``?cursor=`` from the previous page's ``next``; the view gives the keys
    (``view.ordering_keys``, matching the queryset's ORDER BY) and a name for
    the ordering, which the cursor carries so it cannot be replayed under another."""

    page_size = settings.LISTING_PAGE_SIZE
    cursor_query_param = "cursor"
    cursor_query_description = "The `next` address of the previous page carries it; omit it for the first page."

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.base_url = request.build_absolute_uri()
        keys, name = view.ordering_keys()
        self.keys, self.ordering_name = keys, name
        self.first_page = self.cursor_query_param not in request.query_params
        position = self.decode_position(request)
        if position is not None:
            queryset = queryset.filter(keyset_after(keys, position))
        rows = list(queryset[: self.page_size + 1])
        self.has_next = len(rows) > self.page_size
        rows = rows[: self.page_size]
        self.next_position = [key.value_of(rows[-1]) for key in keys] if self.has_next else None
        return rows

    def decode_position(self, request):
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            name, values = json.loads(base64.urlsafe_b64decode(encoded.encode("ascii")))
            if name != self.ordering_name or len(values) != len(self.keys):
                raise ValueError(name)
            return [key.parse(value) for key, value in zip(self.keys, values, strict=True)]
        except (ValueError, TypeError, UnicodeError, RecursionError, binascii.Error) as error:
            raise ValidationError({self.cursor_query_param: ["Not a cursor of this listing."]}) from error

    def encode_position(self, position):
        data = json.dumps([self.ordering_name, position], separators=(",", ":"))
        return base64.urlsafe_b64encode(data.encode()).decode("ascii")

    def get_next_link(self):
        if self.next_position is None:
            return None
        return replace_query_param(self.base_url, self.cursor_query_param, self.encode_position(self.next_position))

    def get_previous_link(self):
        return None

    def get_paginated_response(self, data, **extra):
        return Response({"next": self.get_next_link(), **extra, "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri", "description": "The next page, if any."},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": self.cursor_query_description,
                "schema": {"type": "string"},
            }
        ]
