"""Bar charts as SVG geometry computed on the server: no JavaScript, no chart library.

The template draws what :func:`stacked_bars` returns; every bar carries its own ``<title>`` and
the page prints the same figures as a table, so the chart is never the only way to read them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import formats

#: Okabe and Ito's colour-blind-safe palette, the faint yellow last.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#000000",
    "#F0E442",
)

WIDTH, HEIGHT = 800, 260
LEFT, RIGHT, TOP, BOTTOM = 72, 8, 10, 28


@dataclass
class Bar:
    """One feature's part of one day's bar."""

    day: dt.date
    series: str
    value: Decimal | int
    x: float
    y: float
    width: float
    height: float
    fill: str
    title: str


@dataclass
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    bars: list[Bar] = field(default_factory=list)
    #: (y, label) of each horizontal grid line
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    #: (x, label) of the dates written under the bars
    x_labels: list[tuple[float, str]] = field(default_factory=list)
    #: (series, colour)
    legend: list[tuple[str, str]] = field(default_factory=list)
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    plot_bottom: int = HEIGHT - BOTTOM


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 or 10 times a power of ten that is at least ``value``."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power * (1 + 1e-9):
            return step * power
    return 10 * power


def tick_decimals(step: float) -> int:
    """Enough decimals to write the grid step exactly: 0.25 needs 2, 5 needs none."""
    exponent = Decimal(str(round(step, 12))).normalize().as_tuple().exponent
    return max(0, -int(exponent))


def grid(highest: float, ticks: int = 4, integer: bool = False) -> tuple[float, int]:
    """A round step between grid lines and how many lines reach ``highest``: at most
    ``ticks``, and whole numbers when ``integer``."""
    step = nice_ceiling(highest / ticks) if highest > 0 else 1.0
    if integer:
        step = 5.0 if step == 2.5 else max(1.0, step)
    return step, max(1, math.ceil(highest / step - 1e-9))


def stacked_bars(
    days: Sequence[dt.date],
    series: Sequence[str],
    values: dict[tuple[dt.date, str], Decimal | int],
    *,
    label: Callable[[Decimal | int], str],
    integer: bool = False,
    prefix: str = "",
    ticks: int = 4,
) -> Chart:
    """One bar per day, one stacked segment per series with a value above zero.

    ``label`` formats a value for the bar titles, ``prefix`` goes before the grid's figures
    ("$"); ``integer`` keeps the grid on whole numbers; ``ticks`` is the most grid lines.
    """
    chart = Chart()
    colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(series)}
    chart.legend = [(name, colours[name]) for name in series]
    totals = [sum((float(values.get((day, s), 0)) for s in series), 0.0) for day in days]
    step, lines = grid(max(totals, default=0), ticks, integer)
    top = step * lines
    plot_width = chart.plot_right - chart.plot_left
    plot_height = chart.plot_bottom - TOP
    decimals = 0 if integer else tick_decimals(step)
    for i in range(lines + 1):
        y = chart.plot_bottom - plot_height * i / lines
        chart.y_ticks.append((round(y, 2), prefix + formats.number_format(step * i, decimals)))
    slot = plot_width / max(len(days), 1)
    bar_width = max(slot * 0.7, 0.5)
    label_every = max(1, math.ceil(len(days) / 10))
    for index, day in enumerate(days):
        x = chart.plot_left + index * slot + (slot - bar_width) / 2
        if index % label_every == 0:
            chart.x_labels.append((round(x + bar_width / 2, 2), formats.date_format(day, "j M")))
        base = float(chart.plot_bottom)
        for name in series:
            value = values.get((day, name))
            if not value:
                continue
            height = plot_height * float(value) / top
            base -= height
            chart.bars.append(
                Bar(
                    day=day,
                    series=name,
                    value=value,
                    x=round(x, 2),
                    y=round(base, 2),
                    width=round(bar_width, 2),
                    height=round(height, 2),
                    fill=colours[name],
                    title=f"{formats.date_format(day, 'DATE_FORMAT')} · {name}: {label(value)}",
                )
            )
    return chart
