"""Budgets per feature: the estimate, reserve and settle arithmetic, day and month caps, the
``"*"`` default, the warning e-mail and falling back to a free backend at the cap.

The backend is a test double with a price: these tests are about what the budget does with
a call's cost, not about a model.
"""

from __future__ import annotations

import datetime as dt
import pickle
import threading
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import override_settings
from django.utils import timezone

from oscar_gpt import budgets, llm
from oscar_gpt.llm.base import Backend, Completion, StreamChunk
from oscar_gpt.llm.errors import BackendUnavailable, BudgetExceeded, Refused
from oscar_gpt.models import BudgetPeriod, LedgerEntry

pytestmark = pytest.mark.django_db

#: $0.01 a token, in and out: a 40-character prompt with max_tokens=10 is estimated at
#: (10 + 10) tokens = $0.20 and, with the 10 + 5 tokens the double reports, costs $0.15.
PRICE = ("10000", "10000")
PROMPT = [{"role": "user", "content": "x" * 40}]
ESTIMATE = Decimal("0.20")
COST = Decimal("0.15")


class PricedBackend(Backend):
    """Answers at once with the token counts of its CONFIG and counts the calls it got."""

    default_config = {
        "MODEL": "budget-test",
        "MAX_TOKENS": 10,
        "PROMPT_TOKENS": 10,
        "COMPLETION_TOKENS": 5,
        "FAIL": False,
        "TEXT": "ok",
    }
    calls = 0
    lock = threading.Lock()

    @property
    def model_name(self):
        return self.config["MODEL"]

    def _called(self):
        with PricedBackend.lock:
            PricedBackend.calls += 1
        if self.config["FAIL"]:
            raise BackendUnavailable("down", backend=self.alias)

    def complete(self, messages, **params):
        self._called()
        return Completion(
            self.config["TEXT"],
            self.config["PROMPT_TOKENS"],
            self.config["COMPLETION_TOKENS"],
            self.model_name,
        )

    def stream(self, messages, **params):
        self._called()
        yield StreamChunk("ok")
        yield StreamChunk(
            "", self.config["PROMPT_TOKENS"], self.config["COMPLETION_TOKENS"], "stop"
        )


def config(budgets=None, chain=("paid",), warn_at=0.8, **paid):
    return {
        "BACKENDS": {
            "paid": {"CLASS": f"{__name__}.PricedBackend", "CONFIG": paid},
            "free": {"CLASS": f"{__name__}.PricedBackend", "CONFIG": {"MODEL": "free-model"}},
        },
        "FEATURES": {"qa": list(chain), "descriptions": list(chain), "check": list(chain)},
        "PRICES": {"budget-test": PRICE},
        "BUDGETS": budgets if budgets is not None else {},
        "BUDGET_WARN_AT": warn_at,
    }


@pytest.fixture(autouse=True)
def _count_calls():
    PricedBackend.calls = 0


def row(feature="qa", period="day") -> BudgetPeriod:
    return BudgetPeriod.objects.get(
        feature=feature, period=period, starts=budgets.period_starts(period)
    )


def midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_default_timezone())


def ask(feature="qa"):
    return llm.chat(feature, PROMPT, max_tokens=10)


# -- estimates -------------------------------------------------------------------------------
def test_estimate_is_a_token_per_four_characters_plus_the_most_output():
    with override_settings(OSCAR_GPT=config()):
        backend = llm.get_backend("paid")
        # ceil(41 / 4) = 11 tokens in, 7 out: 18 tokens at $0.01
        assert budgets.estimate(backend, [[{"role": "user", "content": "x" * 41}]], 7) == Decimal(
            "0.18"
        )
        # no max_tokens: the backend's MAX_TOKENS (10), for each conversation
        assert budgets.estimate(backend, [PROMPT, PROMPT]) == 2 * ESTIMATE
        assert budgets.estimate(llm.get_backend("free"), [PROMPT], 10) == 0


def test_caps_per_feature_and_the_default_for_the_others():
    shop = {"qa": {"DAILY": "1.00", "MONTHLY": "20"}, "*": {"MONTHLY": "5"}}
    with override_settings(OSCAR_GPT=config(shop)):
        assert budgets.caps("qa") == {"day": Decimal("1.00"), "month": Decimal("20")}
        # "*" only for features without an entry of their own, and not merged into one
        assert budgets.caps("descriptions") == {"month": Decimal("5")}
    with override_settings(OSCAR_GPT=config({})):
        assert budgets.caps("qa") == {}


# -- reserve and settle ----------------------------------------------------------------------
def test_a_call_reserves_its_estimate_and_settles_its_real_cost():
    with override_settings(OSCAR_GPT=config({"qa": {"DAILY": "1", "MONTHLY": "5"}})):
        backend = llm.get_backend("paid")
        reservation = budgets.reserve("qa", backend, [PROMPT], max_tokens=10)
        assert reservation.amount == ESTIMATE
        for period in ("day", "month"):
            assert (row(period=period).spent, row(period=period).reserved) == (0, ESTIMATE)
        budgets.settle(reservation, COST)
        budgets.settle(reservation, COST)  # twice: no effect
        for period in ("day", "month"):
            assert (row(period=period).spent, row(period=period).reserved) == (COST, 0)

        completion = ask()
    assert completion.text == "ok"
    assert (row().spent, row().reserved) == (2 * COST, 0)
    assert LedgerEntry.objects.get(status="ok").cost == COST  # the same figure as the ledger


def test_a_failed_call_gives_its_reservation_back():
    with override_settings(OSCAR_GPT=config({"qa": {"DAILY": "1"}}, FAIL=True)):
        with pytest.raises(BackendUnavailable):
            ask()
    assert PricedBackend.calls == 1
    assert (row().spent, row().reserved) == (0, 0)


def test_a_stream_is_charged_its_real_cost():
    with override_settings(OSCAR_GPT=config({"qa": {"DAILY": "1"}})):
        chunks = list(llm.chat_stream("qa", PROMPT, max_tokens=10))
    assert "".join(c.delta for c in chunks) == "ok"
    assert (row().spent, row().reserved) == (COST, 0)


def test_without_budgets_or_for_a_free_backend_nothing_is_queried(django_assert_num_queries):
    with override_settings(OSCAR_GPT=config({})):
        with django_assert_num_queries(0):
            reservation = budgets.reserve("qa", llm.get_backend("paid"), [PROMPT], 10)
            budgets.settle(reservation, COST)
    with override_settings(OSCAR_GPT=config({"qa": {"DAILY": "0"}})):
        with django_assert_num_queries(0):
            reservation = budgets.reserve("qa", llm.get_backend("free"), [PROMPT], 10)
            budgets.settle(reservation, 0)
    assert not BudgetPeriod.objects.exists()


# -- the cap ---------------------------------------------------------------------------------
def test_at_the_daily_cap_the_call_is_refused_until_midnight():
    with override_settings(OSCAR_GPT=config({"qa": {"DAILY": "0.50"}})):
        # 0 + .20, .15 + .20 and .30 + .20 fit in .50; .45 + .20 does not
        for _ in range(3):
            ask()
        with pytest.raises(BudgetExceeded) as refused:
            ask()
    exc = refused.value
    assert PricedBackend.calls == 3  # the refused call never reached the backend
    assert (exc.feature, exc.period, exc.cap) == ("qa", "day", Decimal("0.50"))
    assert exc.resets_at == midnight(budgets.shop_today() + dt.timedelta(days=1))
    assert not exc.retryable and isinstance(exc, Refused)
    assert (row().spent, row().reserved) == (3 * COST, 0)
    refusal = LedgerEntry.objects.get(status="refused")
    assert (refusal.backend, refusal.error_class, refusal.cost) == ("paid", "BudgetExceeded", 0)


def test_the_month_cap_holds_when_the_day_cap_does_not():
    shop = {"qa": {"DAILY": "10", "MONTHLY": "0.30"}}
    with override_settings(OSCAR_GPT=config(shop)):
        ask()
        with pytest.raises(BudgetExceeded) as refused:
            ask()
    today = budgets.shop_today()
    next_month = (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    assert (refused.value.period, refused.value.resets_at) == ("month", midnight(next_month))
    assert row(period="day").spent == row(period="month").spent == COST


def test_when_both_caps_are_reached_the_later_reset_is_reported():
    with override_settings(OSCAR_GPT=config({"qa": {"DAILY": "0.10", "MONTHLY": "0.10"}})):
        with pytest.raises(BudgetExceeded) as refused:
            ask()
    assert refused.value.period == "month"
    assert not BudgetPeriod.objects.exists()  # a refusal reserves nothing, creates nothing


def test_yesterday_does_not_count_today():
    BudgetPeriod.objects.create(
        feature="qa",
        period="day",
        starts=budgets.shop_today() - dt.timedelta(days=1),
        spent=Decimal("100"),
    )
    with override_settings(OSCAR_GPT=config({"qa": {"DAILY": "0.50"}})):
        ask()
    assert row().spent == COST


def test_a_new_period_starts_from_what_the_ledger_already_holds():
    """A budget set up in the middle of the day counts the day's calls before it."""
    LedgerEntry.objects.create(
        feature="qa", backend="paid", model="budget-test", status="ok", cost=Decimal("0.40")
    )
    with override_settings(OSCAR_GPT=config({"qa": {"DAILY": "0.50"}})):
        with pytest.raises(BudgetExceeded):
            ask()
    assert PricedBackend.calls == 0


def test_the_default_budget_applies_to_each_feature_without_its_own():
    shop = {"*": {"DAILY": "0.30"}, "descriptions": {"DAILY": "100"}}
    with override_settings(OSCAR_GPT=config(shop)):
        ask("qa")
        with pytest.raises(BudgetExceeded):
            ask("qa")
        ask("check")  # its own budget of the default size, not qa's
        for _ in range(3):
            ask("descriptions")
    assert row("qa").spent == row("check").spent == COST
    assert row("descriptions").spent == 3 * COST


def test_budget_exceeded_survives_pickling():
    exc = BudgetExceeded("qa", "month", Decimal("20"), midnight(dt.date(2031, 2, 1)), backend="b")
    copy = pickle.loads(pickle.dumps(exc))
    assert (copy.feature, copy.period, copy.cap, copy.resets_at, copy.backend) == (
        "qa",
        "month",
        Decimal("20"),
        midnight(dt.date(2031, 2, 1)),
        "b",
    )
    assert "monthly budget of 'qa' ($20) is spent" in str(copy)


# -- falling back ----------------------------------------------------------------------------
def test_at_the_cap_the_chain_falls_back_to_a_free_backend():
    with override_settings(OSCAR_GPT=config({"qa": {"DAILY": "0.20"}}, chain=("paid", "free"))):
        assert ask().extra["backend"] == "paid"
        fallback = ask()
    assert fallback.extra["backend"] == "free"
    assert row().spent == COST  # the free call cost nothing
    assert list(LedgerEntry.objects.order_by("id").values_list("backend", "status")) == [
        ("paid", "ok"),
        ("paid", "refused"),
        ("free", "ok"),
    ]


def test_a_retryable_failure_is_raised_rather_than_the_refusal():
    """["free", "paid"] with the free one down and the paid one over budget: the task
    should retry soon (the free backend may be back), not wait for the budget to reset."""
    shop = {"qa": {"DAILY": "0.10"}}
    settings = config(shop, chain=("free", "paid"))
    settings["BACKENDS"]["free"]["CONFIG"]["FAIL"] = True
    with override_settings(OSCAR_GPT=settings):
        with pytest.raises(BackendUnavailable):
            ask()


# -- the warning -----------------------------------------------------------------------------
def staff(username, *, is_staff=True, perm=True, superuser=False):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(
        username, f"{username}@shop.example", "pw", is_staff=is_staff, is_superuser=superuser
    )
    if perm:
        user.user_permissions.add(
            Permission.objects.get(codename="view_ledgerentry", content_type__app_label="oscar_gpt")
        )
    return user


def test_at_80_percent_staff_are_warned_once(mailoutbox, django_capture_on_commit_callbacks):
    staff("ledger_reader")
    staff("shopper_with_perm", is_staff=False)
    staff("staff_without_perm", perm=False)
    staff("boss", superuser=True)
    with override_settings(OSCAR_GPT=config({"qa": {"DAILY": "1.00", "MONTHLY": "20"}})):
        with django_capture_on_commit_callbacks(execute=True):
            for _ in range(5):  # $0.75: under 80%
                ask()
        assert mailoutbox == []
        with django_capture_on_commit_callbacks(execute=True):
            ask()  # $0.90
            with pytest.raises(BudgetExceeded):
                ask()  # .90 + .20 > 1
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert sorted(mail.to) == ["boss@shop.example", "ledger_reader@shop.example"]
    assert "qa has used 90% of today's budget" in mail.subject
    assert "$0.90 of its $1.00 budget" in mail.body
    assert row().warned_at is not None
    assert row(period="month").warned_at is None  # $0.90 of $20


def test_without_staff_to_tell_the_managers_are_warned(
    mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.MANAGERS = [("Owner", "owner@shop.example")]
    with override_settings(OSCAR_GPT=config({"qa": {"DAILY": "0.30"}}, warn_at=0.5)):
        with django_capture_on_commit_callbacks(execute=True):
            ask()
    assert [m.to for m in mailoutbox] == [["owner@shop.example"]]


# -- the spend page's figures ----------------------------------------------------------------
def test_status_lists_each_capped_feature_and_period():
    shop = {"qa": {"DAILY": "0.20", "MONTHLY": "1"}, "*": {"MONTHLY": "2"}}
    with override_settings(OSCAR_GPT=config(shop)):
        ask()
        figures = {(b["feature"], b["period"]): b for b in budgets.status()}
    qa_day, qa_month = figures["qa", "day"], figures["qa", "month"]
    assert (qa_day["spent"], qa_day["cap"], qa_day["percent"]) == (COST, Decimal("0.20"), 75)
    assert qa_day["warned"] is False and qa_day["exhausted"] is False
    assert qa_month["share"] == pytest.approx(0.15)
    assert figures["descriptions", "month"]["spent"] == 0  # from "*"
    assert ("descriptions", "day") not in figures
    assert qa_day["resets_at"] == midnight(budgets.shop_today() + dt.timedelta(days=1))
