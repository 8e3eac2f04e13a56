"""The shopper Q&A widget on the sandbox's product page, in headless Chromium.

With JavaScript the question is asked in the background and the answer appears in the
aria-live region; without it the form posts and the question page refreshes itself. Answers
come from the real pipeline: the live server runs in a thread of this process, so patching
``service._enqueue`` to ``service.answer`` makes the server answer on commit (the end of the
request, ``ATOMIC_REQUESTS``) with the real embeddings and the real local model.

``live_server`` makes every test transactional, and the database is flushed after each, so
the product is made per test (it is cheap; the models are loaded once per process).
"""

import re

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from oscar_gpt.models import LedgerEntry, Question
from oscar_gpt.qa import service
from tests.functional.descriptions_helpers import headphones, headphones_class

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "Quietwave Pro"
LOOKING = "Looking through the product's details…"
EVIDENCE = "From the specifications: Battery life: 30 hours"
#: How long the real model may take on a busy two-core machine.
MODEL_WAIT_MS = 90_000


@pytest.fixture(autouse=True)
def _shop(settings):
    # No evidence refresh through the sandbox's broker: the first question builds the
    # evidence itself, in the server's process.
    settings.OSCAR_GPT = settings.OSCAR_GPT | {"QA_REFRESH_IN_BACKGROUND": False}
    cache.clear()  # the rate limits
    yield
    cache.clear()


@pytest.fixture
def product():
    return headphones(
        headphones_class(),
        title=TITLE,
        description="Closed-back wireless headphones. The ear cushions are memory foam.",
    )


@pytest.fixture
def answer_on_commit(monkeypatch):
    """The live server answers each question on commit, as the worker would."""
    monkeypatch.setattr(service, "_enqueue", service.answer)


@pytest.fixture
def queued(monkeypatch):
    """Questions wait: the test plays the worker. Holds the queued primary keys."""
    pks: list[int] = []
    monkeypatch.setattr(service, "_enqueue", pks.append)
    return pks


def staff_answered(product, text, answer, *, published=False):
    return Question.objects.create(
        product=product,
        text=text,
        normalised=service.normalise(text),
        language="en-gb",
        status=Question.Status.ANSWERED,
        source=Question.Source.STAFF,
        answer=answer,
        answered_at=timezone.now(),
        published=published,
    )


def widget(page):
    return page.locator("#oscar-gpt-qa")


def result(page):
    return page.locator("#oscar-gpt-qa .oscar-gpt-qa-result")


def question_box(page):
    return page.get_by_role("textbox", name="Ask a question")


def ask_button(page):
    return widget(page).get_by_role("button", name="Ask", exact=True)


def is_focused(locator) -> bool:
    return locator.evaluate("node => node === document.activeElement")


def tab_to(page, locator, limit: int = 5) -> int:
    """Press Tab until ``locator`` has the focus; how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if is_focused(locator):
            return presses
    raise AssertionError(f"not reached with {limit} presses of Tab")


def ask_with_keyboard(page, text: str, key: str = "Enter") -> None:
    question_box(page).focus()
    page.keyboard.type(text)
    tab_to(page, ask_button(page))
    page.keyboard.press(key)


def record_navigations(page) -> list[str]:
    """The addresses the page loads from now on (its main frame's navigations)."""
    navigations: list[str] = []

    def navigated(frame):
        if frame == page.main_frame:
            navigations.append(frame.url)

    page.on("framenavigated", navigated)
    return navigations


def open_product_page(page, live_server, product) -> list[str]:
    """Open the product page; the page loads from then on."""
    page.goto(live_server.url + product.get_absolute_url())
    expect(page.locator("h1")).to_have_text(TITLE)
    return record_navigations(page)


@pytest.mark.slow
def test_keyboard_question_is_answered_in_place_and_can_be_reported(
    live_server, page, product, answer_on_commit, local_backend
):
    navigations = open_product_page(page, live_server, product)
    url = page.url
    page.evaluate("() => { window.__samePage = 'yes'; }")

    ask_with_keyboard(page, "What is the battery life?", key="Enter")
    # The progress text is there while the server works (it answers before replying).
    expect(result(page)).to_contain_text(LOOKING)
    expect(widget(page)).to_have_attribute("aria-busy", "true")
    expect(result(page).locator(".oscar-gpt-qa-evidence")).to_have_text(
        EVIDENCE, timeout=MODEL_WAIT_MS
    )
    expect(result(page).locator(".oscar-gpt-qa-text")).to_contain_text("30")
    expect(result(page)).to_contain_text("Your question: What is the battery life?")
    expect(widget(page)).to_have_attribute("aria-busy", "false")
    expect(question_box(page)).to_have_value("")  # ready for the next question

    question = Question.objects.get(text="What is the battery life?")
    assert question.status == Question.Status.ANSWERED
    assert question.source in (Question.Source.MODEL, Question.Source.QUOTE)
    assert question.trace["gate"] == "supported"
    # The real model was called for it, once, and the call is in the ledger.
    assert LedgerEntry.objects.get(feature="qa").object_id == str(question.pk)

    # Not helpful: the shopper reports the answer, from the keyboard, and is thanked.
    report = result(page).get_by_role("button", name="Not helpful? Tell us")
    tab_to(page, report)
    page.keyboard.press("Enter")
    expect(result(page)).to_contain_text("Thank you. Our team will look at it.")
    expect(report).to_have_count(0)
    question.refresh_from_db()
    assert question.reports == 1
    assert question in service.staff_queue(status="reported")

    # Tab to the button and press Space this time; the facts don't hold this answer.
    ask_with_keyboard(page, "Is it waterproof?", key="Space")
    expect(result(page)).to_contain_text("We don't know yet.", timeout=MODEL_WAIT_MS)
    expect(result(page)).to_contain_text("Your question: Is it waterproof?")
    expect(result(page).locator(".oscar-gpt-qa-evidence")).to_have_count(0)
    assert Question.objects.get(text="Is it waterproof?").status == Question.Status.NEEDS_STAFF
    assert LedgerEntry.objects.filter(feature="qa").count() == 1  # the gate said no

    # All of it on the same page: no navigation, the script's state survived.
    assert page.url == url
    assert navigations == []
    assert page.evaluate("window.__samePage") == "yes"


@pytest.mark.slow
def test_without_javascript_the_question_page_refreshes_until_answered(
    live_server, page_without_javascript, product, queued, local_backend
):
    page = page_without_javascript
    page.goto(live_server.url + product.get_absolute_url())
    question_box(page).fill("What is the battery life?")
    ask_button(page).click()

    question = Question.objects.get()
    question_url = reverse("oscar_gpt:qa-question", kwargs={"public_id": question.public_id})
    page.wait_for_url(live_server.url + question_url)
    assert queued == [question.pk]
    expect(page.locator("#oscar-gpt-qa")).to_contain_text(LOOKING)
    expect(page.locator('meta[http-equiv="refresh"]')).to_have_count(1)

    navigations = record_navigations(page)
    service.answer(question.pk)  # the worker's turn, in this process

    # Nobody reloads the page: it refreshes itself until the answer is there.
    expect(page.locator(".oscar-gpt-qa-evidence")).to_have_text(EVIDENCE, timeout=MODEL_WAIT_MS)
    expect(page.locator(".oscar-gpt-qa-text")).to_contain_text("30")
    expect(page.locator('meta[http-equiv="refresh"]')).to_have_count(0)
    assert navigations and set(navigations) == {live_server.url + question_url}
    assert page.get_by_role("button", name="Not helpful? Tell us").is_visible()

    page.get_by_role("link", name=f"Back to {TITLE}").click()
    page.wait_for_url(live_server.url + product.get_absolute_url())
    expect(page.locator("h1")).to_have_text(TITLE)


def test_widget_is_accessible_and_refuses_an_empty_question_without_a_request(
    live_server, page, product
):
    open_product_page(page, live_server, product)
    box = question_box(page)
    expect(box).to_have_count(1)  # found by its accessible name, "Ask a question"
    expect(box).to_have_accessible_description(
        re.compile("Answered from this product's details and reviews")
    )
    expect(widget(page)).to_have_accessible_name("Questions about this product")
    expect(result(page)).to_have_attribute("aria-live", "polite")
    expect(result(page)).to_have_attribute("aria-atomic", "true")
    asks = []

    def sent(request):
        if "/ask/" in request.url:
            asks.append(request.url)

    page.on("request", sent)

    box.focus()
    # Only the e-mail option's summary lies between; its fields stay out of the way closed.
    assert tab_to(page, ask_button(page)) == 2
    page.keyboard.press("Enter")
    alert = result(page).get_by_role("alert")
    expect(alert).to_have_text("Please write your question.")
    assert is_focused(box)  # back where the shopper types

    page.keyboard.type("   ")  # only spaces is empty too
    tab_to(page, ask_button(page))
    page.keyboard.press("Space")
    expect(alert).to_have_text("Please write your question.")
    expect(ask_button(page)).to_be_enabled()

    assert asks == []
    assert not Question.objects.exists()


def test_too_long_question_without_javascript_is_sent_back_with_the_text(
    live_server, page_without_javascript, product, queued
):
    page = page_without_javascript
    page.goto(live_server.url + product.get_absolute_url())
    box = question_box(page)
    limit = int(box.get_attribute("maxlength"))
    # A browser that ignores maxlength (or a hand-made form) sends more than the limit.
    box.evaluate("node => node.removeAttribute('maxlength')")
    text = "Is it " + "really " * (limit // 7) + "comfortable?"
    assert len(text) > limit
    box.fill(text)
    with page.expect_response(lambda response: "/ask/" in response.url) as sent:
        ask_button(page).click()

    assert sent.value.status == 400
    expect(page.get_by_role("alert")).to_have_text(
        f"Questions can be at most {limit} characters long; yours has {len(text)}."
    )
    expect(page.locator("textarea[name=question]")).to_have_value(text)
    expect(page.get_by_role("link", name=f"Back to {TITLE}")).to_be_visible()
    assert not Question.objects.exists() and queued == []


def test_faq_and_answers_are_shown_as_text_never_as_html(live_server, page, product, queued):
    faq = staff_answered(
        product,
        "Does it fold?",
        "<img src=x onerror=window.__xss=1>",
        published=True,
    )
    asked = "Does it have <b>deep</b> bass?"
    staff_answered(product, asked, "Yes. <script>window.__xss=2</script>")

    open_product_page(page, live_server, product)
    faq_list = widget(page).locator(".oscar-gpt-qa-faq")
    expect(faq_list.locator("dt")).to_have_text(faq.text)
    expect(faq_list.locator("dd p").first).to_have_text("<img src=x onerror=window.__xss=1>")
    assert faq_list.locator("img").count() == 0

    # The same question as the staff answered is answered at once, from the stored answer,
    # and the widget's script shows question and answer as text.
    ask_with_keyboard(page, asked)
    expect(result(page).locator(".oscar-gpt-qa-text")).to_have_text(
        "Yes. <script>window.__xss=2</script>"
    )
    expect(result(page).locator(".oscar-gpt-qa-asked")).to_have_text(f"Your question: {asked}")
    assert result(page).locator("script, b, img").count() == 0
    assert queued == []  # answered from the stored answer: nothing was queued
    assert page.evaluate("typeof window.__xss") == "undefined"

    # The page without the script (where the widget's "follow" link leads) escapes it too.
    stored = Question.objects.get(source=Question.Source.STORED)
    page.goto(
        live_server.url + reverse("oscar_gpt:qa-question", kwargs={"public_id": stored.public_id})
    )
    expect(page.locator(".oscar-gpt-qa-text")).to_have_text("Yes. <script>window.__xss=2</script>")
    expect(page.locator(".oscar-gpt-qa-asked")).to_have_text(f"Your question: {asked}")
    assert page.locator("#oscar-gpt-qa script, #oscar-gpt-qa b").count() == 0
    assert page.evaluate("typeof window.__xss") == "undefined"
