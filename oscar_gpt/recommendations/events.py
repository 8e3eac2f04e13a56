"""What shoppers did, as arrays: the signals every recommendation model learns from.

Oscar records the signals already; they are read from its tables through ``get_model`` (so
forked apps keep working), never copied into tables of our own:

- product views: the analytics app's ``UserProductView`` (signed-in shoppers; an anonymous
  shopper's views live in Oscar's recently-viewed cookie, read by the storefront tag, and
  count towards popularity through the analytics app's ``ProductRecord``);
- basket lines: the basket app's ``Line``; an anonymous basket is a shopper of its own;
- order lines: the order app's ``Line``; a guest order is a shopper of its own.

A variant counts as its parent: recommendations are of browsable products. Each source's
rows are read after a watermark (the last primary key already read), so an incremental
update reads only what is new.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.db import connection
from django.db.models import F
from django.db.models.functions import Coalesce
from oscar.core.loading import get_model

#: The signals, in the order of their codes in :attr:`Events.kinds`.
KINDS = ("view", "basket", "order")
VIEW, BASKET, ORDER = range(3)
#: Signals of intent to buy: the "Often bought with" model learns from these.
PURCHASE_KINDS = (BASKET, ORDER)

#: Anonymous baskets and guest orders are shoppers keyed below zero, apart from user ids.
GUEST_ORDER_OFFSET = 10**12


@dataclass
class Events:
    """One row per event: who (a shopper key), which product, what kind, when."""

    shoppers: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    products: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    kinds: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    #: Seconds since the epoch; zeros where the reader was not asked for times.
    times: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float64))

    def __len__(self) -> int:
        return len(self.products)

    def weights(self, weights: Mapping[str, float]) -> np.ndarray:
        """Each event's weight from ``{"view": 1, "basket": 3, "order": 5}``."""
        table = np.array([float(weights.get(kind, 0.0)) for kind in KINDS], dtype=np.float32)
        return table[self.kinds]

    def subset(self, mask: np.ndarray) -> Events:
        return Events(self.shoppers[mask], self.products[mask], self.kinds[mask], self.times[mask])

    def __add__(self, other: Events) -> Events:
        return Events(
            np.concatenate([self.shoppers, other.shoppers]),
            np.concatenate([self.products, other.products]),
            np.concatenate([self.kinds, other.kinds]),
            np.concatenate([self.times, other.times]),
        )

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[int, int, int, float]]) -> Events:
        array = np.array(list(rows), dtype=np.float64).reshape(-1, 4)
        return cls(
            array[:, 0].astype(np.int64),
            array[:, 1].astype(np.int64),
            array[:, 2].astype(np.int8),
            array[:, 3],
        )


# -- Oscar's tables ---------------------------------------------------------------------------


def _sources():
    """``{kind: (queryset, columns: pk, shopper columns..., product; time column)}``."""
    UserProductView = get_model("analytics", "UserProductView")
    BasketLine = get_model("basket", "Line")
    OrderLine = get_model("order", "Line")
    item = Coalesce("product__parent_id", "product_id")
    return {
        VIEW: (
            UserProductView.objects.annotate(item=item),
            ("pk", "user_id", "item"),
            "date_created",
        ),
        BASKET: (
            BasketLine.objects.filter(product__isnull=False).annotate(
                item=item, owner=F("basket__owner_id")
            ),
            ("pk", "owner", "basket_id", "item"),
            "date_created",
        ),
        ORDER: (
            OrderLine.objects.filter(product__isnull=False).annotate(
                item=item,
                owner=F("order__user_id"),
                basket=F("order__basket_id"),
                placed=F("order__date_placed"),
            ),
            ("pk", "owner", "basket", "order_id", "item"),
            "placed",
        ),
    }


def _fetch(queryset) -> list[tuple]:
    """Rows of a ``values_list`` queryset without building a Python object per field: a
    million rows are read in seconds."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def load_events(
    since: Mapping[str, int] | None = None,
    *,
    until: Mapping[str, int] | None = None,
    with_times: bool = False,
) -> tuple[Events, dict[str, int]]:
    """Every event after ``since`` (``{"view": last pk, ...}``; ``None``: all of them) and up to
    ``until`` (``None``: the latest), and the watermarks to pass next time."""
    since = since or {}
    parts, watermarks = [], {}
    for kind, (queryset, columns, time_column) in _sources().items():
        name = KINDS[kind]
        last = int(since.get(name, 0) or 0)
        columns = (*columns, time_column) if with_times else columns
        queryset = queryset.filter(pk__gt=last)
        if until is not None:
            queryset = queryset.filter(pk__lte=int(until.get(name, 0) or 0))
        rows = _fetch(queryset.order_by().values_list(*columns))
        watermarks[name] = max([last, *(row[0] for row in rows)]) if rows else last
        if not rows:
            continue
        parts.append(_events_of(kind, rows, with_times))
    events = Events()
    for part in parts:
        events = events + part
    return events, watermarks


def _events_of(kind: int, rows: list[tuple], with_times: bool) -> Events:
    times = np.zeros(len(rows), dtype=np.float64)
    if with_times:
        times = np.array([row[-1].timestamp() for row in rows], dtype=np.float64)
        rows = [row[:-1] for row in rows]
    if kind == VIEW:
        shoppers = np.array([row[1] for row in rows], dtype=np.int64)
        products = np.array([row[2] for row in rows], dtype=np.int64)
    elif kind == BASKET:
        shoppers = np.array([row[1] or -row[2] for row in rows], dtype=np.int64)
        products = np.array([row[3] for row in rows], dtype=np.int64)
    else:
        shoppers = np.array(
            [row[1] or -(row[2] or GUEST_ORDER_OFFSET + row[3]) for row in rows], dtype=np.int64
        )
        products = np.array([row[4] for row in rows], dtype=np.int64)
    return Events(shoppers, products, np.full(len(rows), kind, dtype=np.int8), times)


def latest_watermarks() -> dict[str, int]:
    """The last primary key of each source now: a rebuild reads up to these."""
    from django.db.models import Max

    result = {}
    for kind, (queryset, _columns, _time) in _sources().items():
        result[KINDS[kind]] = queryset.model.objects.aggregate(last=Max("pk"))["last"] or 0
    return result


# -- files ------------------------------------------------------------------------------------


@dataclass
class EventsFile:
    """Events read from a CSV file, with the names its users and items had there."""

    events: Events
    user_names: list[str]
    item_names: list[str]


def read_events_csv(path: str | Path) -> EventsFile:
    """``user,item,time[,kind]`` rows (a header line is skipped; kind defaults to "order";
    times are ISO dates or seconds) as :class:`Events` keyed by positions in the name lists."""
    from datetime import datetime

    users: dict[str, int] = {}
    items: dict[str, int] = {}
    rows = []
    with open(path, newline="", encoding="utf-8") as handle:
        for number, row in enumerate(csv.reader(handle)):
            if not row or (number == 0 and row[0].strip().lower() == "user"):
                continue
            user, item, when = row[0].strip(), row[1].strip(), row[2].strip()
            kind = row[3].strip().lower() if len(row) > 3 and row[3].strip() else "order"
            if kind not in KINDS:
                raise ValueError(f"line {number + 1}: unknown kind {kind!r} (one of {KINDS})")
            try:
                seconds = float(when)
            except ValueError:
                seconds = datetime.fromisoformat(when).timestamp()
            rows.append(
                (
                    users.setdefault(user, len(users)),
                    items.setdefault(item, len(items)),
                    KINDS.index(kind),
                    seconds,
                )
            )
    return EventsFile(Events.from_rows(rows), list(users), list(items))
