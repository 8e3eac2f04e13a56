"""Shop data and shopper input render as text, never as markup, on every page of the app;
every unsafe request needs Django's CSRF token.

A product title, a text attribute, a description, a draft, a question, its answer, evidence
and trace, a reviewer's name, a prompt and the ledger all carry the same payloads, and each
page that shows them must show them escaped: the raw ``<script>`` and ``<img onerror>`` never
reach the HTML while their escaped form does (so the check can fail), and no ``href`` or
``src`` starts with ``javascript:``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from oscar.core.loading import get_model

from oscar_gpt.descriptions import service as descriptions
from oscar_gpt.models import (
    Draft,
    GenerationJob,
    GenerationJobItem,
    LedgerEntry,
    PromptTemplate,
    Question,
    Revision,
)
from tests.functional.descriptions_helpers import headphones, headphones_class
from tests.functional.test_permission_matrix import (
    ACTIONS,
    ROLES,
    build_shop,
    keep_models_quiet,
    send,
    state,
    url_for,
)

pytestmark = pytest.mark.django_db

Product = get_model("catalogue", "Product")

SCRIPT = "<script>window.__x=1</script>"
IMG = '"><img src=x onerror=alert(1)>'
JAVASCRIPT = "javascript:alert(1)"
PAYLOAD = f"{SCRIPT} {IMG} {JAVASCRIPT}"

#: What must never reach a page as it is.
RAW = ("<script>window.__x", "<img src=x onerror", "onerror=alert(1)>")
#: What shows the payload did reach the page, escaped.
ESCAPED = "&lt;script&gt;window.__x=1&lt;/script&gt;"
JAVASCRIPT_URL = re.compile(r"""\b(?:href|src|action|formaction)\s*=\s*["']?\s*javascript:""", re.I)

#: A draft that the claims and wording checks mark up (steel and 99 hours are not the
#: product's facts; "clinically proven" and "for men" are flagged wording).
DRAFT_TEXT = (
    f"Made of steel, with a 99 hour battery. {PAYLOAD} "
    "The best headphones for men, clinically proven."
)


def assert_escaped(response, *, status: int = 200) -> str:
    assert response.status_code == status, response.content[:500]
    html = response.content.decode()
    for raw in RAW:
        assert raw not in html, f"unescaped {raw!r} in {response.request['PATH_INFO']}"
    assert not JAVASCRIPT_URL.search(html), JAVASCRIPT_URL.search(html).group(0)
    assert ESCAPED in html, f"the payload is not on {response.request['PATH_INFO']} at all"
    return html


@pytest.fixture(autouse=True)
def _no_model_calls(settings, monkeypatch):
    keep_models_quiet(settings, monkeypatch)


@dataclass
class Evil:
    product: Any
    job: GenerationJob
    draft: Draft
    rejected: Draft
    waiting: Question
    published: Question
    prompt: PromptTemplate


@pytest.fixture
def evil(django_user_model) -> Evil:
    """Payloads in everything a page of the app shows."""
    product_class = headphones_class()
    product = headphones(
        product_class,
        title=f"Quietwave {PAYLOAD}",
        description=f"The old copy. {PAYLOAD}",
        material=PAYLOAD,
    )
    product_class.name = f"Headphones {PAYLOAD}"
    product_class.save()
    mallory = django_user_model.objects.create_user(
        f"mallory{IMG}", "mallory@example.com", None, is_staff=True
    )
    job = GenerationJob.objects.create(
        created_by=mallory, status=GenerationJob.Status.DONE, params={}, params_hash="xss"
    )
    GenerationJobItem.objects.create(
        job=job,
        product=product,
        product_title=f"Failed {PAYLOAD}",
        status=GenerationJobItem.Status.FAILED,
        reason=f"Because {PAYLOAD}",
    )
    fields = {
        "product": product,
        "field": "description",
        "language": "en-gb",
        "params_hash": "xss",
        "backend": "local",
        "model": PAYLOAD,
        "job": job,
    }
    draft = Draft.objects.create(text="Placeholder.", **fields)
    # The real checks mark the draft up: claims and wording highlighted around the payload.
    draft = descriptions.edit(draft, DRAFT_TEXT, user=mallory)
    assert draft.unsupported_claims > 0
    rejected = Draft.objects.create(
        text=f"Rejected {PAYLOAD}",
        variant=1,
        status=Draft.Status.REJECTED,
        reviewed_by=mallory,
        reviewed_at=timezone.now(),
        reject_reason=f"Reason {PAYLOAD}",
        **fields,
    )
    Revision.objects.create(
        product=product,
        field="description",
        before=f"Before {PAYLOAD}",
        after=f"After {PAYLOAD}",
        user=mallory,
    )
    evidence = [
        {"id": "E1", "kind": f"attr{PAYLOAD}", "label": PAYLOAD, "text": f"Material: {PAYLOAD}"}
    ]
    check = {"ok": False, "problems": [PAYLOAD], "claims": draft.claims, "cited_ids": [PAYLOAD]}
    waiting = Question.objects.create(
        product=product,
        text=f"Is it {PAYLOAD}?",
        normalised="xss waiting",
        language="en-gb",
        status=Question.Status.NEEDS_STAFF,
        evidence=evidence,
        trace={
            "gate": PAYLOAD,
            "results": [{"id": PAYLOAD, "score": 0.5, "semantic": 0.5, "lexical": 0.5}],
            "model": PAYLOAD,
            "check": check,
            "suggestion": check,
        },
        suggestion=DRAFT_TEXT,
        reports=1,
        report_reason=f"Report {PAYLOAD}",
    )
    published = Question.objects.create(
        product=product,
        text=f"Does it {PAYLOAD}?",
        normalised="xss published",
        language="en-gb",
        status=Question.Status.ANSWERED,
        answer=f"Yes.\n{PAYLOAD}",
        source=Question.Source.MODEL,
        evidence=evidence,
        published=True,
        answered_by=mallory,
        answered_at=timezone.now(),
    )
    prompt = PromptTemplate.objects.create(
        product_class=product_class, field="description", text=f"Write about {PAYLOAD}"
    )
    LedgerEntry.objects.create(
        feature=f"qa{SCRIPT}", backend=SCRIPT, model=PAYLOAD, status="ok", user=mallory
    )
    return Evil(product, job, draft, rejected, waiting, published, prompt)


# --- the dashboard -------------------------------------------------------------------------


def test_draft_review_escapes_the_draft_the_product_and_the_checks(admin_client, evil):
    html = assert_escaped(
        admin_client.get(reverse("oscar_gpt_dashboard:draft-review", args=[evil.draft.pk]))
    )
    # The markup the page adds itself is there: the checks ran over the payload.
    assert '<mark class="oscar-gpt-unsupported"' in html
    assert '<mark class="oscar-gpt-wording"' in html
    assert "<del>" in html or "<ins>" in html
    assert_escaped(
        admin_client.get(reverse("oscar_gpt_dashboard:draft-review", args=[evil.rejected.pk]))
    )


def test_draft_list_escapes_drafts_and_the_search(admin_client, evil):
    url = reverse("oscar_gpt_dashboard:draft-list")
    assert_escaped(admin_client.get(url))
    assert_escaped(admin_client.get(url, {"status": "rejected"}))
    html = assert_escaped(admin_client.get(url, {"q": IMG}))
    assert 'value="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"' in html


def test_job_page_escapes_titles_failures_and_who_started_it(admin_client, evil):
    assert_escaped(admin_client.get(reverse("oscar_gpt_dashboard:job-detail", args=[evil.job.pk])))


def test_generate_and_revision_pages_escape_the_product(admin_client, evil):
    assert_escaped(
        admin_client.get(reverse("oscar_gpt_dashboard:generate"), {"product": evil.product.pk})
    )
    assert_escaped(
        admin_client.get(reverse("oscar_gpt_dashboard:revision-list", args=[evil.product.pk]))
    )


def test_prompt_pages_escape_the_class_and_the_prompt(admin_client, evil):
    assert_escaped(admin_client.get(reverse("oscar_gpt_dashboard:prompt-list")))
    assert_escaped(
        admin_client.get(
            reverse(
                "oscar_gpt_dashboard:prompt-edit",
                args=[evil.prompt.product_class_id, "description"],
            )
        )
    )


def test_question_queue_and_detail_escape_everything_the_shopper_and_model_wrote(
    admin_client, evil
):
    url = reverse("oscar_gpt_dashboard:question-list")
    assert_escaped(admin_client.get(url, {"status": "all"}))
    html = assert_escaped(admin_client.get(url, {"status": "all", "q": IMG}))
    assert 'value="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"' in html
    for question in (evil.waiting, evil.published):
        assert_escaped(
            admin_client.get(reverse("oscar_gpt_dashboard:question-detail", args=[question.pk]))
        )


def test_spend_page_escapes_ledger_values_and_bad_filters(admin_client, evil):
    url = reverse("oscar_gpt_dashboard:spend")
    assert_escaped(admin_client.get(url))
    # A feature no one offered: the form's error repeats it, escaped.
    assert_escaped(admin_client.get(url, {"feature": SCRIPT}))
    # The CSV's complaint is plain text the browser may not sniff into HTML.
    response = admin_client.get(reverse("oscar_gpt_dashboard:spend-csv"), {"start": SCRIPT})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert response["X-Content-Type-Options"] == "nosniff"


# --- the storefront ------------------------------------------------------------------------


def test_product_page_widget_and_faq_escape_the_published_answers(client, evil):
    # Oscar renders Product.description with |safe: it is the shop's own HTML, not ours to
    # escape (what the app writes there is tested below).
    Product.objects.filter(pk=evil.product.pk).update(description="The shop's own copy.")
    html = assert_escaped(client.get(evil.product.get_absolute_url()))
    assert 'id="oscar-gpt-qa"' in html
    assert "Does it &lt;script&gt;window.__x=1&lt;/script&gt;" in html  # the FAQ's question


def test_an_approved_draft_is_published_as_text_not_as_markup(admin_client, client, evil):
    """A draft is model output (steerable through attributes, reviews and the prompt) or a
    reviewer's edit, shown escaped for review; approving it must not turn it into live
    markup on the product page, where Oscar prints the description with |safe."""
    review = reverse("oscar_gpt_dashboard:draft-review", args=[evil.draft.pk])
    response = admin_client.post(
        review, {"action": "approve", "text": DRAFT_TEXT, "override_reason": "Checked."}
    )
    assert response.status_code == 302
    evil.product.refresh_from_db()
    assert "window.__x" in evil.product.description  # published...
    assert_escaped(client.get(evil.product.get_absolute_url()))  # ...as text


def test_question_status_page_escapes_question_answer_and_evidence(client, evil):
    url = reverse("oscar_gpt:qa-question", kwargs={"public_id": evil.published.public_id})
    html = assert_escaped(client.get(url))
    assert "Material: &lt;script&gt;" in html  # the evidence, escaped
    # JSON for the widget's script: the payload as data, never as HTML.
    response = client.get(url, {"format": "json"})
    assert response["Content-Type"] == "application/json"
    assert response.json()["question"] == evil.published.text


def test_a_question_asked_through_the_form_comes_back_escaped(client, evil):
    url = reverse("oscar_gpt:qa-ask", kwargs={"product_id": evil.product.pk})
    asked = Question.objects.count()
    response = client.post(url, {"question": f"Can it {PAYLOAD}?"}, follow=True)
    html = assert_escaped(response)
    assert Question.objects.count() == asked + 1
    assert "Can it &lt;script&gt;" in html
    # Too long: the page says so and gives the text and address back to edit, escaped.
    response = client.post(url, {"question": PAYLOAD * 20, "email": IMG})
    html = assert_escaped(response, status=400)
    assert 'value="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"' in html


def test_a_question_cannot_break_out_of_the_ask_forms_textarea(client, evil):
    url = reverse("oscar_gpt:qa-ask", kwargs={"product_id": evil.product.pk})
    breakout = f"</textarea>{SCRIPT}" * 40
    html = assert_escaped(client.post(url, {"question": breakout}), status=400)
    assert "&lt;/textarea&gt;&lt;script&gt;" in html


def test_report_never_redirects_to_a_javascript_url(client, evil):
    url = reverse("oscar_gpt:qa-report", kwargs={"public_id": evil.published.public_id})
    response = client.post(url, {"reason": PAYLOAD, "next": JAVASCRIPT})
    assert response.status_code == 302
    assert response["Location"] == evil.product.get_absolute_url()
    evil.published.refresh_from_db()
    assert evil.published.reports == 1


# --- CSRF ----------------------------------------------------------------------------------


@pytest.fixture
def csrf_shop(django_user_model):
    """The permission matrix's sample shop, every client checking CSRF as a browser does."""
    return build_shop(django_user_model, enforce_csrf_checks=True)


@pytest.mark.parametrize("action", ACTIONS, ids=[action.id for action in ACTIONS])
def test_unsafe_requests_without_a_csrf_token_are_refused(csrf_shop, action):
    """Every unsafe request of the matrix, by a role allowed to make it: 403, no change."""
    allowed = [role for role, mark in zip(ROLES, action.roles.split(), strict=True) if mark == "A"]
    role = "super" if "super" in allowed else allowed[0]
    kwargs = action.kwargs(csrf_shop) if action.kwargs else None
    url = url_for(csrf_shop, action.name, kwargs=kwargs)
    data = action.data(csrf_shop) if action.data else None
    before = state()
    response = send(csrf_shop.clients[role], action.method, url, data)
    assert response.status_code == 403, (role, response.status_code)
    assert b"CSRF" in response.content
    assert state() == before
    # The anonymous shopper's doors too.
    if role != "anon" and "anon" in allowed:
        response = send(csrf_shop.clients["anon"], action.method, url, data)
        assert response.status_code == 403 and b"CSRF" in response.content
        assert state() == before


def csrf_token(client: Client, url: str) -> str:
    """The token a page's form carries (and the cookie that goes with it)."""
    html = client.get(url).content.decode()
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def test_the_same_requests_with_the_token_go_through(csrf_shop):
    """The 403s above are CSRF's, not something else's: with the token, they work."""
    shopper, staff = csrf_shop.clients["anon"], csrf_shop.clients["super"]
    # The question page's "Not helpful?" form carries the token, as the product page's does.
    token = csrf_token(
        shopper,
        reverse("oscar_gpt:qa-question", kwargs={"public_id": csrf_shop.answered.public_id}),
    )
    ask = reverse("oscar_gpt:qa-ask", kwargs={"product_id": csrf_shop.product.pk})
    response = shopper.post(ask, {"question": "Is it waterproof?", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    response = shopper.post(
        reverse("oscar_gpt:api-qa-ask"),
        {"product": csrf_shop.product.pk, "question": "Does it fold?"},
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code in (200, 202)

    review = reverse("oscar_gpt_dashboard:draft-review", args=[csrf_shop.draft.pk])
    token = csrf_token(staff, review)
    response = staff.post(
        review,
        {"action": "reject", "text": "x", "reject_reason": "x", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    response = staff.post(
        reverse("oscar_gpt:job-cancel", args=[csrf_shop.job.pk]),
        {},
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200
    assert GenerationJob.objects.get(pk=csrf_shop.job.pk).status == "cancelled"
    assert Draft.objects.get(pk=csrf_shop.draft.pk).status == "rejected"
