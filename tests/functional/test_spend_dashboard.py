"""A shop owner reads what the model calls cost: totals, a daily chart, per feature, a CSV.

Ledger rows are written directly with known days, features and costs, so every figure the page
shows can be checked exactly. Days are the shop's (Europe/London in the sandbox).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from oscar_gpt import spend
from oscar_gpt.dashboard import charts
from oscar_gpt.models import LedgerEntry

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
SPEND_URL = reverse("oscar_gpt_dashboard:spend")
CSV_URL = reverse("oscar_gpt_dashboard:spend-csv")
JUNE = {"start": "2024-06-10", "end": "2024-06-12"}


def at(day: int, hour: int, minute: int = 0, month: int = 6) -> dt.datetime:
    return dt.datetime(2024, month, day, hour, minute, tzinfo=LONDON)


def entry(when: dt.datetime, **fields) -> LedgerEntry:
    """A ledger row at ``when`` (``created_at`` is auto_now_add, so it is set afterwards)."""
    values = {
        "feature": "descriptions",
        "backend": "openai",
        "model": "gpt-4o-mini",
        "status": "ok",
    } | fields
    row = LedgerEntry.objects.create(**values)
    LedgerEntry.objects.filter(pk=row.pk).update(created_at=when)
    row.refresh_from_db()
    return row


@pytest.fixture
def ledger():
    """Five calls from 10 to 12 June 2024, and one either side of the range."""
    return [
        entry(at(10, 12), cost=Decimal("0.0015"), prompt_tokens=1000, completion_tokens=500,
              latency_ms=100),
        entry(at(10, 13), cost=Decimal("0.0025"), prompt_tokens=2000, completion_tokens=1000,
              latency_ms=300, status="error", error_class="RateLimitError"),
        entry(at(10, 14), feature="qa", backend="local", model="smollm2", cost=Decimal("0"),
              prompt_tokens=300, completion_tokens=50, latency_ms=200),
        # 23:30 UTC on the 10th is 00:30 on the 11th in London: the shop's day counts
        entry(dt.datetime(2024, 6, 10, 23, 30, tzinfo=dt.UTC), feature="qa",
              cost=Decimal("0.0100"), prompt_tokens=400, completion_tokens=100, latency_ms=400),
        entry(at(12, 9), cost=Decimal("0.0200"), prompt_tokens=100, completion_tokens=20,
              latency_ms=500, status="refused"),
        entry(at(9, 23, 59), cost=Decimal("5"), prompt_tokens=9, latency_ms=9000),
        entry(at(13, 0, 0), cost=Decimal("7"), prompt_tokens=9, latency_ms=9000),
    ]  # fmt: skip


@pytest.fixture
def make_user(django_user_model):
    def make(*codenames, is_staff=True):
        name = f"user{django_user_model.objects.count()}"
        user = django_user_model.objects.create_user(
            name, f"{name}@example.com", "pw", is_staff=is_staff
        )
        user.user_permissions.set(
            Permission.objects.filter(content_type__app_label="oscar_gpt", codename__in=codenames)
        )
        return user

    return make


@pytest.fixture
def accountant(client, make_user):
    """Staff who may read the ledger and nothing else of ours."""
    client.force_login(make_user("view_ledgerentry"))
    return client


# --- the service ---------------------------------------------------------------------------


def test_summary_totals_are_exact(ledger):
    totals = spend.summary(dt.date(2024, 6, 10), dt.date(2024, 6, 12))
    assert totals["cost"] == Decimal("0.0340")
    assert (totals["prompt_tokens"], totals["completion_tokens"], totals["tokens"]) == (
        3800,
        1670,
        5470,
    )
    assert (totals["calls"], totals["errors"], totals["refused"]) == (5, 1, 1)
    assert totals["error_rate"] == pytest.approx(0.2)
    # nearest rank over 100, 200, 300, 400, 500 ms
    assert (totals["p50_latency_ms"], totals["p95_latency_ms"]) == (300, 500)
    assert totals["avg_latency_ms"] == 300.0


def test_summary_filters(ledger):
    june = (dt.date(2024, 6, 10), dt.date(2024, 6, 12))
    qa = spend.summary(*june, feature="qa")
    assert (qa["calls"], qa["cost"], qa["p50_latency_ms"]) == (2, Decimal("0.0100"), 200)
    local = spend.summary(*june, backend="local")
    assert (local["calls"], local["cost"], local["prompt_tokens"]) == (1, Decimal("0"), 300)
    errors = spend.summary(*june, status="error")
    assert (errors["calls"], errors["errors"], errors["cost"]) == (1, 1, Decimal("0.0025"))
    assert errors["error_rate"] == 1.0
    one_day = spend.summary(dt.date(2024, 6, 11), dt.date(2024, 6, 11))
    assert (one_day["calls"], one_day["cost"]) == (1, Decimal("0.0100"))


def test_an_empty_range_has_zeros_not_nulls(ledger):
    totals = spend.summary(dt.date(2030, 1, 1), dt.date(2030, 1, 31))
    assert totals["cost"] == Decimal("0") and totals["calls"] == totals["tokens"] == 0
    assert totals["error_rate"] == 0.0 and totals["p50_latency_ms"] is None
    assert spend.daily(dt.date(2030, 1, 1), dt.date(2030, 1, 31)) == []


def test_daily_rows_per_day_and_feature_in_the_shops_time_zone(ledger):
    rows = spend.daily(dt.date(2024, 6, 10), dt.date(2024, 6, 12))
    got = [
        (r["day"], r["feature"], r["calls"], r["cost"], r["errors"], r["avg_latency_ms"])
        for r in rows
    ]
    assert got == [
        (dt.date(2024, 6, 10), "descriptions", 2, Decimal("0.0040"), 1, 200.0),
        (dt.date(2024, 6, 10), "qa", 1, Decimal("0"), 0, 200.0),
        (dt.date(2024, 6, 11), "qa", 1, Decimal("0.0100"), 0, 400.0),
        (dt.date(2024, 6, 12), "descriptions", 1, Decimal("0.0200"), 0, 500.0),
    ]
    assert rows[0]["tokens"] == 4500


def test_by_feature_most_expensive_first(ledger):
    rows = spend.by_feature(dt.date(2024, 6, 10), dt.date(2024, 6, 12))
    assert [(r["feature"], r["calls"], r["cost"], r["refused"]) for r in rows] == [
        ("descriptions", 3, Decimal("0.0240"), 1),
        ("qa", 2, Decimal("0.0100"), 0),
    ]


def test_nice_chart_scale():
    assert charts.nice_ceiling(0.005) == 0.005
    assert charts.nice_ceiling(0.0051) == 0.01
    assert charts.nice_ceiling(1.75) == 2
    assert charts.nice_ceiling(2.2) == 2.5
    assert charts.nice_ceiling(0) == 1.0
    assert [charts.tick_decimals(s) for s in (0.25, 5, 20, 0.005, 2.5e-05)] == [2, 0, 0, 3, 6]
    assert charts.grid(0.02) == (0.005, 4)
    assert charts.grid(0.5) == (0.2, 3)  # $0.60 at the top, not $0.80
    assert charts.grid(0) == (1.0, 1)
    assert [charts.grid(n, integer=True) for n in (1, 7, 10, 4000)] == [
        (1.0, 1),
        (2.0, 4),
        (5.0, 2),
        (1000.0, 4),
    ]


# --- the page ------------------------------------------------------------------------------


def test_page_shows_exact_totals_and_per_feature_table(accountant, ledger):
    page = accountant.get(SPEND_URL, JUNE)
    assert page.status_code == 200
    html = page.content.decode()
    assert re.search(r'id="total-cost">\$0\.0340<', html)
    assert re.search(r'id="total-calls">5<', html)
    assert re.search(r'id="total-tokens">3800 / 1670<', html)
    assert re.search(r'id="total-errors">1 <small[^>]*>\(20\.0%\)', html)
    assert re.search(r'id="total-refused">1<', html)
    assert re.search(r'id="total-latency">300 / 500 ms<', html)
    features = html.split('id="spend-features"')[1].split("</table>")[0]
    cells = re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", features.split("<tbody>")[1])
    assert cells == [
        *("descriptions", "3", "1", "1", "3100", "1520", "300", "$0.0240"),
        *("qa", "2", "0", "0", "700", "150", "300", "$0.0100"),
    ]
    assert "$5" not in html and "$7" not in html  # the calls outside the range


def bars(html: str) -> list[tuple[str, str, float]]:
    return [
        (day, feature, float(height))
        for day, feature, height in re.findall(
            r'<rect class="spend-bar" data-day="([^"]+)" data-feature="([^"]+)"'
            r' x="[^"]+" y="[^"]+" width="[^"]+" height="([^"]+)"',
            html,
        )
    ]


def test_chart_has_one_bar_per_day_and_feature(accountant, ledger):
    html = accountant.get(SPEND_URL, JUNE).content.decode()
    svg = html.split('<svg id="spend-chart"')[1].split("</svg>")[0]
    assert 'role="img"' in svg and 'aria-labelledby="spend-chart-title spend-chart-desc"' in svg
    assert '<title id="spend-chart-title">Cost (USD) per day, by feature</title>' in svg
    assert '<desc id="spend-chart-desc">' in svg
    plot_height = charts.HEIGHT - charts.BOTTOM - charts.TOP
    # cost: qa on the 10th cost nothing, so it has no segment; the 12th is the tallest day
    assert sorted(bars(svg)) == [
        ("2024-06-10", "descriptions", round(plot_height * 0.004 / 0.02, 2)),
        ("2024-06-11", "qa", round(plot_height * 0.01 / 0.02, 2)),
        ("2024-06-12", "descriptions", float(plot_height)),
    ]
    assert "<title>" in svg.split('class="spend-bar"')[1]  # each bar names its figure
    # calls: every day and feature with a call has its segment
    calls = accountant.get(SPEND_URL, {**JUNE, "metric": "calls"}).content.decode()
    assert [(d, f) for d, f, _h in sorted(bars(calls))] == [
        ("2024-06-10", "descriptions"),
        ("2024-06-10", "qa"),
        ("2024-06-11", "qa"),
        ("2024-06-12", "descriptions"),
    ]
    # the table fallback holds the same rows
    table = html.split('id="spend-daily"')[1].split("</table>")[0]
    assert table.count("<tr>") == 1 + 4


def test_filters_narrow_the_page(accountant, ledger):
    html = accountant.get(SPEND_URL, {**JUNE, "feature": "qa"}).content.decode()
    assert re.search(r'id="total-calls">2<', html) and re.search(r"\$0\.0100<", html)
    assert {f for _d, f, _h in bars(html)} == {"qa"}
    html = accountant.get(SPEND_URL, {**JUNE, "backend": "local"}).content.decode()
    assert re.search(r'id="total-calls">1<', html)
    html = accountant.get(SPEND_URL, {**JUNE, "status": "error"}).content.decode()
    assert re.search(r'id="total-calls">1<', html) and 'id="total-cost">$0.0025<' in html
    assert 'value="qa" selected' in accountant.get(SPEND_URL, {"feature": "qa"}).content.decode()


def test_default_range_is_the_last_30_days(accountant):
    entry(timezone.now(), cost=Decimal("0.5"))
    entry(timezone.now() - dt.timedelta(days=40), cost=Decimal("3"))
    page = accountant.get(SPEND_URL)
    html = page.content.decode()
    today = timezone.localdate()
    assert page.context["filters"]["start"] == today - dt.timedelta(days=29)
    assert page.context["filters"]["end"] == today
    assert f'value="{today.isoformat()}"' in html
    assert re.search(r'id="total-calls">1<', html) and 'id="total-cost">$0.5000<' in html


def test_an_empty_range_says_no_calls(accountant, ledger):
    html = accountant.get(SPEND_URL, {"start": "2030-01-01", "end": "2030-01-05"}).content
    assert b"No calls in this range." in html
    assert b'id="spend-chart"' not in html and b'id="spend-features"' not in html


def test_a_backwards_range_is_refused(accountant, ledger):
    page = accountant.get(SPEND_URL, {"start": "2024-06-12", "end": "2024-06-10"})
    assert page.status_code == 200 and b"The range ends before it starts." in page.content
    assert b'id="spend-totals"' not in page.content
    response = accountant.get(CSV_URL, {"start": "2024-06-12", "end": "2024-06-10"})
    assert response.status_code == 400


# --- the CSV -------------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_csv_download_streams_the_filtered_ledger(accountant, ledger):
    html = accountant.get(SPEND_URL, {**JUNE, "feature": "qa"}).content.decode()
    link = re.search(r'href="([^"]+)" id="spend-csv"', html).group(1).replace("&amp;", "&")
    assert link.startswith(CSV_URL) and "feature=qa" in link and "start=2024-06-10" in link

    response = accountant.get(CSV_URL, JUNE)
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="oscar-gpt-ledger-20240610-20240612.csv"'
    )
    rows = read_csv(response)
    assert rows[0] == list(spend.CSV_HEADER)
    assert len(rows) == 1 + 5
    assert rows[1] == [
        "2024-06-10T12:00:00+01:00",
        "descriptions",
        "openai",
        "gpt-4o-mini",
        "completion",
        "ok",
        "",
        "1000",
        "500",
        "0.00150000",
        "100",
        "",
    ]
    assert rows[2][5:7] == ["error", "RateLimitError"]
    assert rows[4][0] == "2024-06-11T00:30:00+01:00"  # 23:30 UTC, in the shop's zone
    assert sum(Decimal(r[9]) for r in rows[1:]) == Decimal("0.0340")

    qa = read_csv(accountant.get(link))
    assert [r[1] for r in qa[1:]] == ["qa", "qa"]


def test_csv_defuses_spreadsheet_formulas(accountant, make_user):
    user = make_user()
    entry(at(10, 12), feature="=HYPERLINK(1)", error_class="@SUM", user=user)
    rows = read_csv(accountant.get(CSV_URL, JUNE))
    assert rows[1][1] == "'=HYPERLINK(1)" and rows[1][6] == "'@SUM"
    assert rows[1][11] == str(user.pk)


# --- who may look --------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_log_in(client, ledger):
    for url in (SPEND_URL, CSV_URL):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]


def test_staff_need_the_ledger_permission(client, make_user, ledger):
    client.force_login(make_user("view_draft"))
    assert client.get(SPEND_URL).status_code == 403
    assert client.get(CSV_URL, JUNE).status_code == 403
    drafts = client.get(reverse("oscar_gpt_dashboard:draft-list")).content.decode()
    assert SPEND_URL not in drafts  # no tab for a page they may not open
    assert "AI spend" not in client.get(reverse("dashboard:index")).content.decode()


def test_the_permission_without_staff_is_not_enough(client, make_user):
    client.force_login(make_user("view_ledgerentry", is_staff=False))
    assert client.get(SPEND_URL).status_code == 403


def test_staff_with_the_permission_see_the_page_tab_and_menu(client, make_user, ledger):
    client.force_login(make_user("view_ledgerentry", "view_draft"))
    page = client.get(SPEND_URL, JUNE)
    assert page.status_code == 200
    assert re.search(rf'class="nav-link active" href="{SPEND_URL}">Spend<', page.content.decode())
    drafts = client.get(reverse("oscar_gpt_dashboard:draft-list")).content.decode()
    assert f'href="{SPEND_URL}">Spend<' in drafts
    assert "AI spend" in client.get(reverse("dashboard:index")).content.decode()
