"""The spend page and its CSV download: thin callers of :mod:`oscar_gpt.spend`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views import generic

from .. import budgets, spend
from ..app_settings import FEATURE_NAMES, app_settings
from ..models import LedgerEntry
from .charts import stacked_bars

#: Days shown when the form names none: the last 30, today included.
DEFAULT_DAYS = 30

#: The widest range one page draws: two years of daily bars.
MAX_DAYS = 731

#: What the chart's bars measure: label, the row key, whole numbers or money.
METRICS = {
    "cost": (_("Cost (USD)"), "cost", False),
    "calls": (_("Calls"), "calls", True),
    "tokens": (_("Tokens"), "tokens", True),
}


def usd(value: Decimal | int) -> str:
    """Dollars to four places: a single call often costs a fraction of a cent."""
    return "$" + formats.number_format(value, 4)


class SpendFilterForm(forms.Form):
    """The range and filters of the spend page; the CSV download takes the same."""

    start = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    end = forms.DateField(
        label=_("To"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    feature = forms.ChoiceField(label=_("Feature"), required=False)
    backend = forms.ChoiceField(label=_("Backend"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *LedgerEntry.Status.choices],
    )
    metric = forms.ChoiceField(
        label=_("Chart"),
        required=False,
        choices=[(key, label) for key, (label, _key, _whole) in METRICS.items()],
    )

    def __init__(self, query, **kwargs):
        today = timezone.localdate()
        data = {
            "start": (today - dt.timedelta(days=DEFAULT_DAYS - 1)).isoformat(),
            "end": today.isoformat(),
            "metric": "cost",
        }
        data.update({key: value for key, value in query.items() if value})
        super().__init__(data, **kwargs)
        seen = spend.filter_choices()
        features = sorted(set(FEATURE_NAMES) | set(seen["features"]))
        backends = sorted(set(app_settings.BACKENDS) | set(seen["backends"]))
        self.fields["feature"].choices = [("", _("Every feature"))] + [(f, f) for f in features]
        self.fields["backend"].choices = [("", _("Every backend"))] + [(b, b) for b in backends]
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control mr-2")

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if start > end:
                raise forms.ValidationError(_("The range ends before it starts."))
            if (end - start).days + 1 > MAX_DAYS:
                raise forms.ValidationError(_("Choose at most %(days)d days.") % {"days": MAX_DAYS})
        data["metric"] = data.get("metric") or "cost"
        return data

    def filters(self) -> dict[str, Any]:
        """The service's arguments: range and filters, ``None`` for "any"."""
        data = self.cleaned_data
        return {
            "start": data["start"],
            "end": data["end"],
            "feature": data["feature"] or None,
            "backend": data["backend"] or None,
            "status": data["status"] or None,
        }

    def query_string(self) -> str:
        return urlencode({key: str(value) for key, value in self.filters().items() if value})


def daily_chart(filters: dict[str, Any], rows: list[dict[str, Any]], metric: str):
    """The daily rows as stacked bars, one per day of the range, one colour per feature."""
    _label, key, whole = METRICS[metric]
    start, end = filters["start"], filters["end"]
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    series = sorted({row["feature"] for row in rows})
    values = {(row["day"], row["feature"]): row[key] for row in rows}
    label = formats.number_format if whole else usd
    return stacked_bars(
        days, series, values, label=label, integer=whole, prefix="" if whole else "$"
    )


class SpendView(generic.TemplateView):
    """Totals, a daily chart and a per-feature table of the ledger, filtered."""

    template_name = "oscar_gpt/dashboard/spend.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        form = SpendFilterForm(self.request.GET)
        ctx["form"] = form
        # Budgets of today and this month, whatever range the form shows.
        ctx["budgets_warned"] = [b for b in budgets.status() if b["warned"]]
        if not form.is_valid():
            return ctx
        filters = form.filters()
        totals = spend.summary(**filters)
        rows = spend.daily(**filters)
        metric = form.cleaned_data["metric"]
        ctx.update(
            filters=filters,
            totals=totals,
            error_percent=totals["error_rate"] * 100,
            daily=rows,
            features=spend.by_feature(**filters),
            metric_label=METRICS[metric][0],
            chart=daily_chart(filters, rows, metric) if rows else None,
            csv_url=f"{reverse('oscar_gpt_dashboard:spend-csv')}?{form.query_string()}",
        )
        return ctx


class SpendCsvView(generic.View):
    """The filtered ledger, one call per line, streamed: a year of rows never sits in memory."""

    def get(self, request, *args, **kwargs):
        form = SpendFilterForm(request.GET)
        if not form.is_valid():
            return HttpResponseBadRequest(form.errors.as_text(), content_type="text/plain")
        filters = form.filters()
        name = f"oscar-gpt-ledger-{filters['start']:%Y%m%d}-{filters['end']:%Y%m%d}.csv"
        return StreamingHttpResponse(
            spend.csv_rows(**filters),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
