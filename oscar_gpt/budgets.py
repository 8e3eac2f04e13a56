"""Spending caps per feature, per day and per month, that hold with many workers at once.

The model layer (:mod:`oscar_gpt.llm.service`) asks before every call to a backend::

    reservation = budgets.reserve("qa", backend, conversations, max_tokens=60)
    ...  # the call
    budgets.settle(reservation, actual_cost)  # or budgets.release(reservation) on failure

:func:`reserve` estimates the call's cost from the backend's price (``OSCAR_GPT["PRICES"]``),
locks the feature's rows of today and this month (``SELECT ... FOR UPDATE``, always day
before month, so workers never deadlock), and either adds the estimate to ``reserved`` or
raises :class:`~oscar_gpt.llm.errors.BudgetExceeded`. Two workers can therefore never both
take the last dollar: the second one waits for the first one's row lock and then sees its
reservation. :func:`settle` moves the estimate out of ``reserved`` and the real cost (the
ledger's, from the token counts the backend reported) into ``spent``.

Things worth knowing:

* A call that costs nothing (a local model, a model without a price) is never refused and
  touches no table; with no ``BUDGETS`` configured nothing here queries the database.
* The estimate counts a token per four characters of the prompt plus ``max_tokens`` (or the
  backend's default) of output per conversation. A call whose real cost beats its estimate
  can take ``spent`` a little past the cap; the next call is then refused.
* The first priced call of a period starts ``spent`` at what the ledger already holds for
  the feature in that period, so a budget set up in the middle of a month counts the month.
* A worker killed between reserve and settle leaves its estimate reserved until the period
  ends: the budget errs on the side of spending less.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, ROUND_UP, Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import DecimalField, F, Q, Sum, Value
from django.db.models.functions import Greatest
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from .app_settings import FEATURE_NAMES, app_settings
from .llm.errors import BudgetExceeded
from .models import BudgetPeriod, LedgerEntry

logger = logging.getLogger(__name__)

#: The periods a budget may cap, in the order their rows are locked, and their setting keys.
PERIODS = {BudgetPeriod.Period.DAY: "DAILY", BudgetPeriod.Period.MONTH: "MONTHLY"}

#: The feature key of ``OSCAR_GPT["BUDGETS"]`` that applies to features without their own.
EVERY_FEATURE = "*"

#: Characters per token of the estimate (about right for English and GPT tokenisers).
CHARS_PER_TOKEN = 4

#: Output tokens of the estimate when neither the call nor the backend names a maximum.
DEFAULT_OUTPUT_TOKENS = 512

#: The ledger's precision: amounts are rounded to it before they reach a row.
PRECISION = Decimal("0.00000001")

ZERO = Decimal("0")


@dataclass
class Reservation:
    """What :func:`reserve` set aside for one call; hand it to :func:`settle` afterwards."""

    feature: str
    #: The estimate, in USD; zero when the call is free or the feature has no caps.
    amount: Decimal = ZERO
    #: Primary keys of the :class:`~oscar_gpt.models.BudgetPeriod` rows that hold it.
    rows: tuple[int, ...] = ()
    settled: bool = False


# -- settings and periods ------------------------------------------------------------------
def caps(feature: str) -> dict[str, Decimal]:
    """The feature's caps by period (``{"day": Decimal("1.00")}``); empty: no budget."""
    budgets = app_settings.BUDGETS or {}
    entry = budgets.get(feature, budgets.get(EVERY_FEATURE)) or {}
    return {
        period: Decimal(str(entry[key]))
        for period, key in PERIODS.items()
        if entry.get(key) not in (None, "")
    }


def shop_today() -> dt.date:
    """Today in the shop's time zone (``TIME_ZONE``), whichever zone a request activated:
    every worker must agree on which row is today's."""
    return timezone.localdate(timezone=timezone.get_default_timezone())


def period_starts(period: str, today: dt.date | None = None) -> dt.date:
    today = today or shop_today()
    return today if period == BudgetPeriod.Period.DAY else today.replace(day=1)


def period_ends(period: str, starts: dt.date) -> dt.date:
    """The first day of the next period."""
    if period == BudgetPeriod.Period.DAY:
        return starts + dt.timedelta(days=1)
    return (starts.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(
        dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone()
    )


def resets_at(period: str, starts: dt.date) -> dt.datetime:
    """When the period that began on ``starts`` ends, as an aware datetime."""
    return _midnight(period_ends(period, starts))


def _ledger_spent(feature: str, period: str, starts: dt.date) -> Decimal:
    """What the ledger holds for the feature in the period: the start of a new row."""
    total = LedgerEntry.objects.filter(
        feature=feature,
        created_at__gte=_midnight(starts),
        created_at__lt=resets_at(period, starts),
    ).aggregate(total=Sum("cost"))["total"]
    return (total or ZERO).quantize(PRECISION, rounding=ROUND_HALF_UP)


# -- estimates -----------------------------------------------------------------------------
def _tokens(text: str) -> int:
    return math.ceil(len(text or "") / CHARS_PER_TOKEN)


def output_tokens(backend: Any, max_tokens: int | None = None) -> int:
    """The most output tokens a call may produce: the call's ``max_tokens``, else the
    backend's default (``MAX_TOKENS`` remotely, ``MAX_NEW_TOKENS`` locally)."""
    config = getattr(backend, "config", {}) or {}
    return int(
        max_tokens
        or config.get("MAX_TOKENS")
        or config.get("MAX_NEW_TOKENS")
        or DEFAULT_OUTPUT_TOKENS
    )


def estimate(
    backend: Any, conversations: Sequence[Sequence[dict]], max_tokens: int | None = None
) -> Decimal:
    """The most ``conversations`` should cost on ``backend``, rounded up to the ledger's
    precision; zero for a backend without a price."""
    tokens_in = sum(_tokens(m.get("content", "")) for messages in conversations for m in messages)
    tokens_out = output_tokens(backend, max_tokens) * len(conversations)
    return Decimal(backend.cost(tokens_in, tokens_out)).quantize(PRECISION, rounding=ROUND_UP)


def estimate_embedding(backend: Any, texts: Sequence[str]) -> Decimal:
    """What embedding ``texts`` costs: the backend's ``EMBEDDING_MODEL`` at its input price;
    zero when it embeds with the local model."""
    model = (getattr(backend, "config", {}) or {}).get("EMBEDDING_MODEL")
    price = app_settings.PRICES.get(model) if model else None
    if not price:
        return ZERO
    tokens = sum(_tokens(text) for text in texts)
    return (price[0] * tokens / Decimal(1_000_000)).quantize(PRECISION, rounding=ROUND_UP)


def cost(amount: Any) -> Decimal:
    """A call's real cost, rounded as the ledger stores it."""
    return Decimal(amount or 0).quantize(PRECISION, rounding=ROUND_HALF_UP)


# -- reserve, settle, release ------------------------------------------------------------
def reserve(
    feature: str,
    backend: Any,
    conversations: Sequence[Sequence[dict]],
    max_tokens: int | None = None,
) -> Reservation:
    """Set aside the estimated cost of a call, or raise :class:`BudgetExceeded`."""
    if not caps(feature):
        return Reservation(feature)
    return reserve_amount(
        feature, estimate(backend, conversations, max_tokens), backend=backend.alias
    )


def reserve_embedding(feature: str, backend: Any, texts: Sequence[str]) -> Reservation:
    """:func:`reserve` for an embedding call."""
    if not caps(feature):
        return Reservation(feature)
    return reserve_amount(feature, estimate_embedding(backend, texts), backend=backend.alias)


def reserve_amount(feature: str, amount: Decimal, *, backend: str = "") -> Reservation:
    """Set aside ``amount`` USD in each of the feature's capped periods, all or nothing.

    Runs in its own transaction (a savepoint inside the caller's): the rows stay locked
    only for the few statements here, not for the model call, unless the caller holds a
    transaction open around the call.
    """
    limits = caps(feature)
    if amount <= 0 or not limits:
        return Reservation(feature)
    today = shop_today()
    with transaction.atomic():
        rows = []
        for period in PERIODS:  # always day, then month: one lock order for every worker
            if period not in limits:
                continue
            starts = period_starts(period, today)
            row, _created = BudgetPeriod.objects.select_for_update().get_or_create(
                feature=feature,
                period=period,
                starts=starts,
                defaults={"spent": partial(_ledger_spent, feature, period, starts)},
            )
            rows.append(row)
        over = [row for row in rows if row.spent + row.reserved + amount > limits[row.period]]
        if over:
            # The period that ends last: no call fits before then. On a month's last day both
            # end at midnight: the month's cap is the one to name.
            order = list(PERIODS)
            row = max(over, key=lambda r: (period_ends(r.period, r.starts), order.index(r.period)))
            raise BudgetExceeded(
                feature,
                row.period,
                limits[row.period],
                resets_at(row.period, row.starts),
                backend=backend,
            )
        pks = tuple(row.pk for row in rows)
        BudgetPeriod.objects.filter(pk__in=pks).update(reserved=F("reserved") + amount)
    return Reservation(feature, amount, pks)


def settle(reservation: Reservation, actual: Decimal | int = ZERO) -> None:
    """The call is over: its estimate leaves ``reserved``, its real cost joins ``spent``.

    Settling twice does nothing. Crossing ``BUDGET_WARN_AT`` of a cap warns staff, once
    per feature and period.
    """
    if reservation.settled:
        return
    reservation.settled = True
    if not reservation.rows:
        return
    actual = cost(actual)
    money = DecimalField(max_digits=14, decimal_places=8)
    with transaction.atomic():
        BudgetPeriod.objects.filter(pk__in=reservation.rows).update(
            reserved=Greatest(
                F("reserved") - Value(reservation.amount, output_field=money),
                Value(ZERO, output_field=money),
                output_field=money,
            ),
            spent=F("spent") + Value(actual, output_field=money),
        )
        if actual > 0:
            _warn_if_due(reservation)


def release(reservation: Reservation) -> None:
    """The call failed before it cost anything: give its estimate back."""
    settle(reservation, ZERO)


# -- warnings ------------------------------------------------------------------------------
def _warn_if_due(reservation: Reservation) -> None:
    share = Decimal(str(app_settings.BUDGET_WARN_AT))
    limits = caps(reservation.feature)
    for period, cap in limits.items():
        if cap <= 0:
            continue
        # One conditional UPDATE: of the workers crossing the line together, one wins.
        warned = BudgetPeriod.objects.filter(
            pk__in=reservation.rows,
            period=period,
            warned_at__isnull=True,
            spent__gte=(cap * share).quantize(PRECISION, rounding=ROUND_HALF_UP),
        ).update(warned_at=timezone.now())
        if warned:
            transaction.on_commit(
                partial(send_warning, reservation.feature, period, cap), robust=True
            )


def warning_recipients() -> list[str]:
    """Staff who may see the ledger (and superusers); ``MANAGERS`` when there are none."""
    User = get_user_model()
    may_see_ledger = (
        Q(is_superuser=True)
        | Q(
            user_permissions__content_type__app_label="oscar_gpt",
            user_permissions__codename="view_ledgerentry",
        )
        | Q(
            groups__permissions__content_type__app_label="oscar_gpt",
            groups__permissions__codename="view_ledgerentry",
        )
    )
    emails = (
        User.objects.filter(may_see_ledger, is_staff=True, is_active=True)
        .exclude(email="")
        .order_by("email")
        .values_list("email", flat=True)
        .distinct()
    )
    return list(emails) or [email for _name, email in settings.MANAGERS]


def send_warning(feature: str, period: str, cap: Decimal) -> None:
    """E-mail staff that ``feature`` has spent most of its budget for ``period``."""
    recipients = warning_recipients()
    if not recipients:
        logger.warning("Budget warning for %s (%s) but nobody to e-mail", feature, period)
        return
    starts = period_starts(period)
    row = BudgetPeriod.objects.filter(feature=feature, period=period, starts=starts).first()
    spent = row.spent if row else ZERO
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "feature": feature,
            "percent": _percent(spent, cap),
            "spent": _usd(spent),
            "cap": _usd(cap),
            "resets": formats.date_format(
                timezone.localtime(resets_at(period, starts), timezone.get_default_timezone()),
                "DATETIME_FORMAT",
            ),
        }
        if period == BudgetPeriod.Period.DAY:
            subject = _("AI budget: %(feature)s has used %(percent)s%% of today's budget")
        else:
            subject = _("AI budget: %(feature)s has used %(percent)s%% of this month's budget")
        body = _(
            "%(feature)s has spent %(spent)s of its %(cap)s budget (%(percent)s%%).\n\n"
            "At the cap, calls to paid models are refused until %(resets)s: shopper features "
            "fall back to what they can do without them, and bulk description jobs pause "
            "and carry on once the budget resets.\n\n"
            "The dashboard's spend page shows where the money went."
        )
        send_mail(subject % context, body % context, None, recipients)


def _usd(amount: Decimal) -> str:
    return "$" + formats.number_format(amount, 2)


def _percent(spent: Decimal, cap: Decimal) -> int:
    return int(spent * 100 / cap) if cap > 0 else 100


# -- the spend page ------------------------------------------------------------------------
def status() -> list[dict[str, Any]]:
    """Each capped feature and period of now: cap, spent, reserved, share of the cap, and
    whether it passed the warning share (``warned``) or the cap (``exhausted``)."""
    budgets = app_settings.BUDGETS or {}
    if not budgets:
        return []
    today = shop_today()
    starts = {period: period_starts(period, today) for period in PERIODS}
    rows = {
        (row.feature, row.period): row
        for row in BudgetPeriod.objects.filter(
            Q(period=BudgetPeriod.Period.DAY, starts=starts[BudgetPeriod.Period.DAY])
            | Q(period=BudgetPeriod.Period.MONTH, starts=starts[BudgetPeriod.Period.MONTH])
        )
    }
    features = [feature for feature in budgets if feature != EVERY_FEATURE]
    if EVERY_FEATURE in budgets:
        seen = {feature for feature, _period in rows}
        features += sorted((set(FEATURE_NAMES) | seen) - set(features))
    warn_at = Decimal(str(app_settings.BUDGET_WARN_AT))
    result = []
    for feature in features:
        for period, cap in caps(feature).items():
            row = rows.get((feature, period))
            spent = row.spent if row else _ledger_spent(feature, period, starts[period])
            share = spent / cap if cap > 0 else Decimal(1)
            result.append(
                {
                    "feature": feature,
                    "period": period,
                    "cap": cap,
                    "spent": spent,
                    "reserved": row.reserved if row else ZERO,
                    "share": float(share),
                    "percent": _percent(spent, cap),
                    "warned": share >= warn_at,
                    "exhausted": spent >= cap,
                    "resets_at": resets_at(period, starts[period]),
                }
            )
    return result
