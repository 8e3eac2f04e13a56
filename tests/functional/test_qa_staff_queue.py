"""Staff answer shoppers' questions in Oscar's dashboard: the queue, one question, its actions.

Questions are written directly in the states the answering pipeline leaves them in (waiting
for staff, reported, answered by the model, published, rejected), so every count and every
change the page makes can be checked exactly. The model itself is only called by "Draft a
suggestion": once against a backend that can't be reached (the page must say so, not fail),
and once, marked slow, with the real local model.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from oscar_gpt.models import Question
from oscar_gpt.qa import service
from tests.functional.descriptions_helpers import headphones, headphones_class

pytestmark = pytest.mark.django_db

LIST_URL = reverse("oscar_gpt_dashboard:question-list")
XSS = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'

#: A backend nothing listens on: port 9 (discard) on this machine, no retries.
DOWN = {
    "BACKENDS": {
        "down": {
            "CLASS": "oscar_gpt.llm.openai.OpenAIBackend",
            "CONFIG": {
                "MODEL": "x",
                "BASE_URL": "http://127.0.0.1:9/v1",
                "MAX_RETRIES": 0,
                "TIMEOUT": 2,
            },
        }
    },
    "FEATURES": {"qa": "down"},
    "QA_REFRESH_IN_BACKGROUND": False,
}


def detail_url(question: Question) -> str:
    return reverse("oscar_gpt_dashboard:question-detail", args=[question.pk])


def ask(product, text: str = "Does it fold flat?", **fields) -> Question:
    """A question as the pipeline stores it; ``needs_staff`` unless ``fields`` say otherwise."""
    values = {"status": Question.Status.NEEDS_STAFF, "language": "en"} | fields
    return Question.objects.create(
        product=product, text=text, normalised=service.normalise(text), **values
    )


def answered(product, text: str, answer: str = "Yes.", **fields) -> Question:
    return ask(
        product,
        text,
        status=Question.Status.ANSWERED,
        answer=answer,
        source=Question.Source.MODEL,
        **fields,
    )


def tab_counts(content: str) -> dict[str, int]:
    return {
        key: int(count)
        for key, count in re.findall(
            r'data-filter="(\w+)"[^>]*>[^<]*<span class="badge[^"]*">(\d+)</span>', content
        )
    }


@pytest.fixture(autouse=True)
def _no_background_refresh(settings):
    """Evidence refreshes are queued on commit; these tests commit and have no worker."""
    settings.OSCAR_GPT = {**settings.OSCAR_GPT, "QA_REFRESH_IN_BACKGROUND": False}


@pytest.fixture
def make_user(django_user_model):
    def make(*codenames: str, is_staff: bool = True, name: str = "staff"):
        user = django_user_model.objects.create_user(
            name, f"{name}@example.com", "pw", is_staff=is_staff
        )
        user.user_permissions.set(
            Permission.objects.filter(content_type__app_label="oscar_gpt", codename__in=codenames)
        )
        return user

    return make


@pytest.fixture
def answerer(client, make_user):
    """Staff who may answer questions and nothing else of ours."""
    user = make_user("answer_questions")
    client.force_login(user)
    return user


@pytest.fixture
def product():
    return headphones(headphones_class())


# --- who may look ------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client, product):
    question = ask(product)
    for url in (LIST_URL, detail_url(question)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("dashboard:login"))
    response = client.post(detail_url(question), {"action": "answer", "text": "Yes."})
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.status == Question.Status.NEEDS_STAFF and question.answer == ""


@pytest.mark.parametrize(
    ("codenames", "is_staff"),
    [((), True), (("answer_questions",), False), (("view_ledgerentry",), True)],
    ids=["staff-without-permission", "permission-without-staff", "other-permission"],
)
def test_users_without_staff_and_permission_are_denied(
    client, make_user, product, codenames, is_staff
):
    client.force_login(make_user(*codenames, is_staff=is_staff))
    question = ask(product)
    assert client.get(LIST_URL).status_code == 403
    assert client.get(detail_url(question)).status_code == 403
    response = client.post(detail_url(question), {"action": "answer", "text": "Yes."})
    assert response.status_code == 403
    question.refresh_from_db()
    assert question.status == Question.Status.NEEDS_STAFF and question.answer == ""


def test_staff_with_permission_see_the_queue_and_the_nav_tab(client, answerer, product):
    question = ask(product, "How long does the battery last?")
    response = client.get(LIST_URL)
    assert response.status_code == 200
    content = response.content.decode()
    assert "How long does the battery last?" in content
    assert f'href="{detail_url(question)}"' in content
    assert f'href="{LIST_URL}"' in content  # the "Questions" tab of our nav
    assert client.get(detail_url(question)).status_code == 200


def test_the_dashboard_menu_lists_the_queue_only_for_those_who_may_use_it(
    client, make_user, product
):
    client.force_login(make_user("answer_questions", name="answers"))
    assert f'href="{LIST_URL}"' in client.get(reverse("dashboard:index")).content.decode()
    client.force_login(make_user(name="nothing"))
    assert f'href="{LIST_URL}"' not in client.get(reverse("dashboard:index")).content.decode()


# --- the queue ---------------------------------------------------------------------------


def test_filter_tabs_count_and_list_the_right_questions(client, answerer, product):
    other = headphones(product.get_product_class(), title="Other cans")
    waiting = ask(product, "Waiting one?")
    waiting_reported = ask(product, "Waiting and reported?", reports=1)
    reported = answered(product, "Answered but reported?", reports=2, report_reason="Wrong")
    published = answered(product, "Published one?", published=True)
    plain = answered(product, "Just answered?")
    rejected = ask(product, "Rejected one?", status=Question.Status.REJECTED, reject_reason="spam")
    queued = ask(product, "Still being answered?", status=Question.Status.QUEUED)
    elsewhere = ask(other, "About the other product?")

    content = client.get(LIST_URL).content.decode()
    assert tab_counts(content) == {
        "open": 4,
        "waiting": 3,
        "reported": 2,
        "answered": 3,
        "published": 1,
        "rejected": 1,
        "all": 8,
    }
    expected = {
        "open": {waiting, waiting_reported, reported, elsewhere},
        "waiting": {waiting, waiting_reported, elsewhere},
        "reported": {waiting_reported, reported},
        "answered": {reported, published, plain},
        "published": {published},
        "rejected": {rejected},
        "all": {waiting, waiting_reported, reported, published, plain, rejected, queued, elsewhere},
    }
    for status, questions in expected.items():
        response = client.get(LIST_URL, {"status": status})
        assert set(response.context["questions"]) == questions, status
    # Most reported first in the open queue.
    assert list(client.get(LIST_URL).context["questions"])[:2] == [reported, waiting_reported]

    # One product: its title is shown and the counts are its own.
    response = client.get(LIST_URL, {"status": "all", "product": other.pk})
    content = response.content.decode()
    assert set(response.context["questions"]) == {elsewhere}
    assert "Other cans" in content and 'id="product-filter"' in content
    assert tab_counts(content) == {
        "open": 1,
        "waiting": 1,
        "reported": 0,
        "answered": 0,
        "published": 0,
        "rejected": 0,
        "all": 1,
    }
    assert client.get(LIST_URL, {"product": 987654}).status_code == 404
    # An unknown filter shows the open queue rather than failing.
    assert client.get(LIST_URL, {"status": "bogus"}).context["status"] == "open"


def test_search_finds_words_in_the_question(client, answerer, product):
    battery = ask(product, "How long does the BATTERY last?")
    ask(product, "Is it waterproof?")
    response = client.get(LIST_URL, {"status": "all", "q": "battery"})
    assert list(response.context["questions"]) == [battery]
    assert tab_counts(response.content.decode())["all"] == 1
    assert 'value="battery"' in response.content.decode()


def test_the_queue_is_paginated_by_25(client, answerer, product):
    for n in range(30):
        ask(product, f"Question number {n}?")
    first = client.get(LIST_URL)
    assert len(first.context["questions"]) == 25
    assert first.context["paginator"].count == 30
    second = client.get(LIST_URL, {"page": 2})
    assert len(second.context["questions"]) == 5
    assert "Page 2 of 2" in " ".join(second.content.decode().split())


def test_shopper_text_is_escaped_everywhere(client, answerer, product):
    question = ask(
        product,
        XSS,
        reports=1,
        report_reason=XSS,
        evidence=[{"id": "review:1", "kind": "review", "text": XSS, "label": XSS}],
        answer=XSS,
    )
    for url in (LIST_URL, detail_url(question)):
        content = client.get(url).content.decode()
        assert "<script>alert" not in content
        assert "<img src=x" not in content
        assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in content


# --- one question ------------------------------------------------------------------------


def test_the_page_explains_why_the_model_did_not_answer(client, answerer, product):
    question = ask(
        product,
        "Is it good for running?",
        reports=1,
        report_reason="It fell off my head",
        trace={
            "gate": "low_semantic",
            "results": [
                {"id": "attr:weight_g", "score": 0.41, "semantic": 0.22, "lexical": 0.6},
                {"id": "description", "score": 0.3, "semantic": 0.2, "lexical": 0.4},
            ],
            "model": "smollm2",
            "check": {
                "ok": False,
                "unknown": False,
                "cited": True,
                "cited_ids": ["attr:weight_g"],
                "problems": ["unsupported_claims", "external_link"],
                "claims": {
                    "ok": False,
                    "claims": [
                        {
                            "start": 0,
                            "end": 9,
                            "text": "waterproof",
                            "kind": "feature",
                            "supported": False,
                            "reason": "no fact says it is waterproof",
                            "fact": None,
                        }
                    ],
                },
            },
        },
    )
    content = client.get(detail_url(question)).content.decode()
    assert "No evidence is close enough in meaning to the question." in content
    assert "attr:weight_g" in content and "0.410" in content
    assert "The reply links to another site." in content
    assert "waterproof" in content and "no fact says it is waterproof" in content
    assert "It fell off my head" in content


def test_the_answer_box_is_prefilled_with_the_answer_or_else_the_suggestion(
    client, answerer, product
):
    suggested = ask(product, "Does it fold?", suggestion="It folds flat for travel.")
    corrected = answered(product, "Is it wired?", answer="No, it is wireless.", suggestion="x")
    form = client.get(detail_url(suggested)).context["answer_form"]
    assert form["text"].value() == "It folds flat for travel."
    assert "It folds flat for travel." in client.get(detail_url(suggested)).content.decode()
    assert client.get(detail_url(corrected)).context["answer_form"]["text"].value() == (
        "No, it is wireless."
    )


def test_staff_answer_and_publish_to_the_faq(client, answerer, product):
    question = ask(product, "Does it come with a case?")
    response = client.post(
        detail_url(question),
        {"action": "answer", "text": "Yes, a hard case.", "publish": "on"},
    )
    assert response.status_code == 302 and response["Location"] == detail_url(question)
    question.refresh_from_db()
    assert question.status == Question.Status.ANSWERED
    assert question.source == Question.Source.STAFF
    assert question.answer == "Yes, a hard case."
    assert question.answered_by == answerer and question.published
    assert list(service.faq(product)) == [question]
    page = client.get(response["Location"]).content.decode()
    assert "Answer saved and published to the product&#x27;s FAQ." in page
    assert "Take out of the FAQ" in page
    # It leaves the open queue.
    assert question not in client.get(LIST_URL).context["questions"]


def test_answer_without_publishing_stays_out_of_the_faq(client, answerer, product):
    question = ask(product, "Is there a warranty?")
    client.post(detail_url(question), {"action": "answer", "text": "Two years."})
    question.refresh_from_db()
    assert question.answer == "Two years." and not question.published
    assert list(service.faq(product)) == []
    # ... until staff publish it with the button.
    response = client.post(detail_url(question), {"action": "publish"}, follow=True)
    assert "Published to the product&#x27;s FAQ." in response.content.decode()
    question.refresh_from_db()
    assert question.published and list(service.faq(product)) == [question]


def test_unpublish_takes_the_answer_out_of_the_faq(client, answerer, product):
    question = answered(product, "Is it heavy?", answer="250 g.", published=True)
    assert list(service.faq(product)) == [question]
    response = client.post(detail_url(question), {"action": "unpublish"}, follow=True)
    assert "Taken out of the product&#x27;s FAQ." in response.content.decode()
    question.refresh_from_db()
    assert not question.published and question.answer == "250 g."
    assert list(service.faq(product)) == []


def test_an_unanswered_question_cannot_be_published(client, answerer, product):
    question = ask(product)
    response = client.post(detail_url(question), {"action": "publish"}, follow=True)
    assert "Only an answered question can go into the FAQ." in response.content.decode()
    question.refresh_from_db()
    assert not question.published and question.status == Question.Status.NEEDS_STAFF


def test_an_empty_answer_is_refused_and_nothing_changes(client, answerer, product):
    question = ask(product, suggestion="A suggestion.")
    response = client.post(
        detail_url(question), {"action": "answer", "text": "  \n ", "publish": "on"}
    )
    assert response.status_code == 200
    assert "Please write an answer." in response.content.decode()
    question.refresh_from_db()
    assert question.status == Question.Status.NEEDS_STAFF
    assert question.answer == "" and question.source == "" and not question.published
    assert question.answered_by is None


def test_the_shopper_is_emailed_when_they_asked(
    client, answerer, product, mailoutbox, django_capture_on_commit_callbacks
):
    question = ask(product, "Is it foldable?", notify=True, email="shopper@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            detail_url(question), {"action": "answer", "text": "Yes, it folds flat."}
        )
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["shopper@example.com"]
    assert "Quietwave Pro" in mail.subject
    assert "Yes, it folds flat." in mail.body and "Is it foldable?" in mail.body
    question.refresh_from_db()
    assert question.notified_at is not None and question.email == ""
    assert (
        "The shopper will be e-mailed the answer."
        in client.get(response["Location"]).content.decode()
    )


def test_no_email_when_the_shopper_did_not_ask(
    client, answerer, product, mailoutbox, django_capture_on_commit_callbacks
):
    question = ask(product, "Is it foldable?", notify=False, email="")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(detail_url(question), {"action": "answer", "text": "Yes."})
    question.refresh_from_db()
    assert question.status == Question.Status.ANSWERED
    assert mailoutbox == []


def test_staff_reject_a_question(client, answerer, product):
    question = ask(product, "Buy cheap watches at example.biz", notify=True, email="s@example.com")
    response = client.post(detail_url(question), {"action": "reject", "reason": "spam"})
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.status == Question.Status.REJECTED
    assert question.reject_reason == "spam" and question.email == ""
    page = client.get(detail_url(question)).content.decode()
    assert "Question rejected" in page and 'id="question-rejected"' in page
    assert question in client.get(LIST_URL, {"status": "rejected"}).context["questions"]
    assert question not in client.get(LIST_URL).context["questions"]


def test_a_reject_without_a_valid_reason_changes_nothing(client, answerer, product):
    question = ask(product)
    response = client.post(
        detail_url(question), {"action": "reject", "reason": "because"}, follow=True
    )
    assert "Choose why the question is rejected." in response.content.decode()
    question.refresh_from_db()
    assert question.status == Question.Status.NEEDS_STAFF and question.reject_reason == ""


def test_an_unknown_action_changes_nothing(client, answerer, product):
    question = ask(product)
    response = client.post(detail_url(question), {"action": "explode"}, follow=True)
    assert "Unknown action." in response.content.decode()
    question.refresh_from_db()
    assert question.status == Question.Status.NEEDS_STAFF


# --- "Draft a suggestion" ----------------------------------------------------------------


def test_a_model_backend_that_is_down_gives_a_message_and_keeps_the_typed_text(
    client, answerer, product, settings
):
    settings.OSCAR_GPT = DOWN
    question = ask(product, "How long does the battery last?", suggestion="Older suggestion.")
    response = client.post(
        detail_url(question),
        {"action": "suggest", "text": "My own half-written answer"},
        follow=True,
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "The model could not draft a suggestion just now." in content
    # What staff had typed is back in the answer box.
    assert response.context["answer_form"]["text"].value() == "My own half-written answer"
    question.refresh_from_db()
    assert question.suggestion == "Older suggestion."
    assert question.status == Question.Status.NEEDS_STAFF
    # The kept text is used once: a later visit shows the suggestion again.
    later = client.get(detail_url(question))
    assert later.context["answer_form"]["text"].value() == "Older suggestion."


@pytest.mark.slow
def test_draft_a_suggestion_with_the_local_model(client, answerer, product, local_backend):
    question = ask(product, "How long does the battery last?")
    response = client.post(detail_url(question), {"action": "suggest", "text": ""}, follow=True)
    assert response.status_code == 200
    question.refresh_from_db()
    assert question.suggestion, "the local model drafted nothing"
    assert question.trace["suggestion"]["cited_ids"]  # its claims check is kept for staff
    assert question.status == Question.Status.NEEDS_STAFF and question.answer == ""
    content = response.content.decode()
    assert "Suggestion drafted" in content and 'id="suggestion"' in content
    # An empty answer box is filled with the suggestion, for staff to edit.
    assert response.context["answer_form"]["text"].value() == question.suggestion
