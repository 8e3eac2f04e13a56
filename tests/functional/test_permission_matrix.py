"""Who reaches what: every dashboard page, every API endpoint and every shopper door of the
app, for every kind of user.

The doors are read from the URL resolver (the ``oscar_gpt_dashboard`` and ``oscar_gpt``
namespaces, DRF's format-suffix twins included), so a page added later without a line in the
tables below fails :func:`test_every_door_has_a_row`. The expectations are written out, one
line per door and one column per role, from the dashboard's ``permissions_map``, the API's
``required_perms`` and the views' own checks:

* ``A`` allowed: the row's status (200, 302 back into the app, 405 for a GET on a POST-only
  door); an unsafe request must also change what the row says it changes;
* ``L`` the login page (anonymous visitors on the dashboard);
* ``D`` denied: 403 (the API: 401 or 403);
* a request that is not ``A`` must leave the shop's data exactly as it was.

Every unsafe request runs in a savepoint that is rolled back, so each role meets the same
objects. No model is called: queueing is recorded instead of sent, "draft a suggestion" is
replaced, and building a backend fails the test.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import transaction
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone
from oscar.core.loading import get_model

from oscar_gpt.finetune.export import FILES as FINETUNE_FILES
from oscar_gpt.models import (
    Draft,
    FineTunedModel,
    FineTuneJob,
    GenerationJob,
    GenerationJobItem,
    LedgerEntry,
    PromptTemplate,
    Question,
    Revision,
    TrainingExport,
)
from oscar_gpt.qa import service as qa_service
from tests.functional.descriptions_helpers import headphones, headphones_class

pytestmark = pytest.mark.django_db

Partner = get_model("partner", "Partner")
Product = get_model("catalogue", "Product")

NAMESPACES = ("oscar_gpt_dashboard", "oscar_gpt")
UNSAFE_METHODS = ("post", "put", "patch", "delete")

# --- the roles ---------------------------------------------------------------------------

#: Column order of the tables. ``staff`` holds no permission; the seven after it are staff
#: holding exactly one; ``partner`` is Oscar's partner user (not staff, dashboard access,
#: linked to the partner that stocks the sample product); ``partner+`` is the same with
#: every permission of the app; ``super`` is a superuser.
ROLES = (
    "anon",
    "customer",
    "staff",
    "generate",
    "approve",
    "view",
    "prompts",
    "answer",
    "ledger",
    "finetune",
    "partner",
    "partner+",
    "super",
)
ONE_PERMISSION = {
    "generate": "oscar_gpt.generate_descriptions",
    "approve": "oscar_gpt.approve_descriptions",
    "view": "oscar_gpt.view_draft",
    "prompts": "oscar_gpt.change_prompttemplate",
    "answer": "oscar_gpt.answer_questions",
    "ledger": "oscar_gpt.view_ledgerentry",
    "finetune": "oscar_gpt.manage_finetuning",
}
ROLE_PERMISSIONS = {
    "customer": [],
    "staff": [],
    **{role: [perm] for role, perm in ONE_PERMISSION.items()},
    "partner": ["partner.dashboard_access"],
    "partner+": ["partner.dashboard_access", *ONE_PERMISSION.values()],
}
STAFF_ROLES = {"staff", *ONE_PERMISSION}


def parse_roles(symbols: str) -> dict[str, str]:
    """``"L D D A ..."`` -> ``{"anon": "L", "customer": "D", ...}``."""
    values = symbols.split()
    assert len(values) == len(ROLES), f"{symbols!r}: one symbol per role, {len(ROLES)}"
    assert set(values) <= {"A", "D", "L"}, symbols
    return dict(zip(ROLES, values, strict=True))


# --- the doors, from the resolver --------------------------------------------------------


@dataclass(frozen=True)
class Door:
    """One URL pattern: its namespaced name, its arguments and the methods its view handles."""

    name: str
    params: frozenset[str]
    methods: frozenset[str]

    @property
    def id(self) -> str:
        return self.name + (".<format>" if "format" in self.params else "")


def view_methods(callback) -> frozenset[str]:
    """The HTTP methods a view answers other than with 405 (HEAD and OPTIONS aside)."""
    actions = getattr(callback, "actions", None)  # a DRF viewset: the router's mapping
    view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    allowed = set(getattr(view, "http_method_names", ()))
    # A viewset answers what the router mapped; a plain view, what it defines.
    methods = set(actions) & allowed if actions else {m for m in allowed if hasattr(view, m)}
    return frozenset(methods - {"head", "options", "trace"})


def app_doors() -> list[Door]:
    """Every URL pattern of the app's two namespaces, as mounted by the project's URLconf."""

    def walk(patterns, namespaces=()):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                name = pattern.namespace or pattern.app_name
                yield from walk(pattern.url_patterns, namespaces + ((name,) if name else ()))
            elif namespaces and namespaces[-1] in NAMESPACES and pattern.name:
                yield Door(
                    name=f"{namespaces[-1]}:{pattern.name}",
                    params=frozenset(pattern.pattern.regex.groupindex),
                    methods=view_methods(pattern.callback),
                )

    return list(dict.fromkeys(walk(get_resolver().url_patterns)))


DOORS = app_doors()

# --- the expectations --------------------------------------------------------------------

#: GET on every door. An ``ok`` of 405: the door takes POST only, and the row says who is
#: let as far as the method check.
#:                                           an cu st ge ap vi pr qa le ft pa p+ su
# fmt: off
GET_ROWS: dict[str, tuple[str, int]] = {
    # Dashboard (permissions_map in oscar_gpt/dashboard/apps.py)
    "oscar_gpt_dashboard:generate":        ("L  D  D  A  D  D  D  D  D  D  D  A  A", 200),
    "oscar_gpt_dashboard:job-detail":      ("L  D  D  A  D  A  D  D  D  D  D  D  A", 200),
    "oscar_gpt_dashboard:job-progress":    ("L  D  D  A  D  A  D  D  D  D  D  D  A", 200),
    "oscar_gpt_dashboard:job-action":      ("L  D  D  A  A  D  D  D  D  D  D  D  A", 405),
    "oscar_gpt_dashboard:draft-list":      ("L  D  D  D  A  A  D  D  D  D  D  D  A", 200),
    "oscar_gpt_dashboard:draft-review":    ("L  D  D  D  A  A  D  D  D  D  D  D  A", 200),
    "oscar_gpt_dashboard:revision-list":   ("L  D  D  D  A  A  D  D  D  D  D  D  A", 200),
    "oscar_gpt_dashboard:prompt-list":     ("L  D  D  D  D  D  A  D  D  D  D  D  A", 200),
    "oscar_gpt_dashboard:prompt-edit":     ("L  D  D  D  D  D  A  D  D  D  D  D  A", 200),
    "oscar_gpt_dashboard:spend":           ("L  D  D  D  D  D  D  D  A  D  D  D  A", 200),
    "oscar_gpt_dashboard:spend-csv":       ("L  D  D  D  D  D  D  D  A  D  D  D  A", 200),
    "oscar_gpt_dashboard:question-list":   ("L  D  D  D  D  D  D  A  D  D  D  D  A", 200),
    "oscar_gpt_dashboard:question-detail": ("L  D  D  D  D  D  D  A  D  D  D  D  A", 200),
    "oscar_gpt_dashboard:finetune":        ("L  D  D  D  D  D  D  D  D  A  D  D  A", 200),
    "oscar_gpt_dashboard:finetune-export": ("L  D  D  D  D  D  D  D  D  A  D  D  A", 200),
    "oscar_gpt_dashboard:finetune-export-file":
                                           ("L  D  D  D  D  D  D  D  D  A  D  D  A", 200),
    "oscar_gpt_dashboard:finetune-job":    ("L  D  D  D  D  D  D  D  D  A  D  D  A", 200),
    "oscar_gpt_dashboard:finetune-job-progress":
                                           ("L  D  D  D  D  D  D  D  D  A  D  D  A", 200),
    "oscar_gpt_dashboard:finetune-model":  ("L  D  D  D  D  D  D  D  D  A  D  D  A", 405),
    # Descriptions API (required_perms in oscar_gpt/api/views.py: staff or partner users
    # holding the action's permissions). A GET on a POST-only action has no action, hence
    # no permission beyond being staff or a partner user: they meet the 405.
    "oscar_gpt:api-root":                  ("A  A  A  A  A  A  A  A  A  A  A  A  A", 200),
    "oscar_gpt:job-list":                  ("D  D  D  A  D  D  D  D  D  D  D  A  A", 200),
    "oscar_gpt:job-detail":                ("D  D  D  A  D  D  D  D  D  D  D  A  A", 200),
    "oscar_gpt:job-cancel":                ("D  D  A  A  A  A  A  A  A  A  A  A  A", 405),
    "oscar_gpt:job-retry":                 ("D  D  A  A  A  A  A  A  A  A  A  A  A", 405),
    "oscar_gpt:draft-list":                ("D  D  D  D  D  A  D  D  D  D  D  A  A", 200),
    "oscar_gpt:draft-detail":              ("D  D  D  D  D  A  D  D  D  D  D  A  A", 200),
    "oscar_gpt:draft-approve":             ("D  D  A  A  A  A  A  A  A  A  A  A  A", 405),
    "oscar_gpt:draft-reject":              ("D  D  A  A  A  A  A  A  A  A  A  A  A", 405),
    "oscar_gpt:revision-list":             ("D  D  D  D  D  A  D  D  D  D  D  A  A", 200),
    "oscar_gpt:revision-detail":           ("D  D  D  D  D  A  D  D  D  D  D  A  A", 200),
    "oscar_gpt:revision-restore":          ("D  D  A  A  A  A  A  A  A  A  A  A  A", 405),
    # The API's schema is public, as documented in the README ("REST in the schema").
    "oscar_gpt:schema":                    ("A  A  A  A  A  A  A  A  A  A  A  A  A", 200),
    # Shopper doors: the product itself, open to everyone.
    "oscar_gpt:api-qa-ask":                ("A  A  A  A  A  A  A  A  A  A  A  A  A", 405),
    "oscar_gpt:api-qa-question":           ("A  A  A  A  A  A  A  A  A  A  A  A  A", 200),
    "oscar_gpt:api-qa-report":             ("A  A  A  A  A  A  A  A  A  A  A  A  A", 405),
    "oscar_gpt:api-qa-faq":                ("A  A  A  A  A  A  A  A  A  A  A  A  A", 200),
    "oscar_gpt:health":                    ("A  A  A  A  A  A  A  A  A  A  A  A  A", 200),
    "oscar_gpt:qa-ask":                    ("A  A  A  A  A  A  A  A  A  A  A  A  A", 405),
    "oscar_gpt:qa-question":               ("A  A  A  A  A  A  A  A  A  A  A  A  A", 200),
    "oscar_gpt:qa-report":                 ("A  A  A  A  A  A  A  A  A  A  A  A  A", 405),
    "oscar_gpt:finder":                    ("A  A  A  A  A  A  A  A  A  A  A  A  A", 200),
    "oscar_gpt:api-finder":                ("A  A  A  A  A  A  A  A  A  A  A  A  A", 405),
    "oscar_gpt:api-recs-product":          ("A  A  A  A  A  A  A  A  A  A  A  A  A", 200),
    # A signed-in shopper's own list; another shopper's (the customer's, here) for staff.
    "oscar_gpt:api-recs-me":               ("D  A  A  A  A  A  A  A  A  A  A  A  A", 200),
    "oscar_gpt:api-recs-user":             ("D  A  A  A  A  A  A  A  A  A  D  D  A", 200),
}
# fmt: on


@dataclass(frozen=True)
class Action:
    """An unsafe request and who may make it."""

    name: str
    method: str
    label: str
    roles: str
    ok: tuple[int, ...]
    #: The request must change the shop's data when allowed (else: it must not).
    changes: bool = True
    data: Callable[[Shop], dict] | None = None
    #: Arguments other than the door's defaults (which question, which job action).
    kwargs: Callable[[Shop], dict] | None = None

    @property
    def id(self) -> str:
        return f"{self.method.upper()} {self.name} {self.label}".strip()


def generate_form(s: Shop) -> dict:
    return {
        "target": "products",
        "products": str(s.product.pk),
        "product_fields": ["description"],
        "tone": "friendly",
        "length": "medium",
        "language": "en-gb",
        "format": "paragraph",
        "variants": "1",
    }


def job_action(action: str):
    return lambda s: {"pk": s.job.pk, "action": action}


def question_kwargs(attribute: str):
    return lambda s: {"pk": getattr(s, attribute).pk}


D = "oscar_gpt_dashboard"
#: Roles that may write through the descriptions API: approve (or generate) plus staff or
#: partner users; the dashboard's are staff only.
#                                   an cu st ge ap vi pr qa le ft pa p+ su
# fmt: off
GENERATE_DASH =                    "L  D  D  A  D  D  D  D  D  D  D  A  A"
JOB_DASH =                         "L  D  D  A  D  D  D  D  D  D  D  D  A"
JOB_PAGE_DASH =                    "L  D  D  A  A  D  D  D  D  D  D  D  A"
APPROVE_DASH =                     "L  D  D  D  A  D  D  D  D  D  D  D  A"
REVIEW_DASH =                      "L  D  D  D  A  A  D  D  D  D  D  D  A"
PROMPTS_DASH =                     "L  D  D  D  D  D  A  D  D  D  D  D  A"
ANSWER_DASH =                      "L  D  D  D  D  D  D  A  D  D  D  D  A"
FINETUNE_DASH =                    "L  D  D  D  D  D  D  D  D  A  D  D  A"
GENERATE_API =                     "D  D  D  A  D  D  D  D  D  D  D  A  A"
APPROVE_API =                      "D  D  D  D  A  D  D  D  D  D  D  A  A"
EVERYONE =                         "A  A  A  A  A  A  A  A  A  A  A  A  A"
# fmt: on

ACTIONS: list[Action] = [
    # -- dashboard: descriptions
    Action(f"{D}:generate", "post", "", GENERATE_DASH, (302,), data=generate_form),
    # PUT reaches the form without data: the form comes back, nothing is queued.
    Action(f"{D}:generate", "put", "", GENERATE_DASH, (200,), changes=False),
    # Cancel and retry queue (or stop) generation: generate_descriptions, as in the API.
    Action(f"{D}:job-action", "post", "cancel", JOB_DASH, (302,), kwargs=job_action("cancel")),
    Action(f"{D}:job-action", "post", "retry", JOB_DASH, (302,), kwargs=job_action("retry")),
    Action(
        f"{D}:job-action",
        "post",
        "approve-unflagged",
        APPROVE_DASH,
        (302,),
        kwargs=job_action("approve-unflagged"),
    ),
    Action(
        f"{D}:job-action",
        "post",
        "unknown",
        JOB_PAGE_DASH,
        (302,),
        changes=False,
        kwargs=job_action("unknown"),
    ),
    # Editing a draft's text is writing, as the API's PATCH (approve_descriptions) and the
    # admin say: a reader (view_draft) may not.
    Action(
        f"{D}:draft-review",
        "post",
        "save",
        APPROVE_DASH,
        (302,),
        data=lambda s: {"action": "save", "text": "Wireless headphones, light to wear."},
    ),
    Action(
        f"{D}:draft-review",
        "post",
        "approve",
        APPROVE_DASH,
        (302,),
        data=lambda s: {"action": "approve", "text": s.draft.text},
    ),
    Action(
        f"{D}:draft-review",
        "post",
        "reject",
        APPROVE_DASH,
        (302,),
        data=lambda s: {"action": "reject", "text": s.draft.text, "reject_reason": "Dull."},
    ),
    Action(f"{D}:draft-review", "put", "", REVIEW_DASH, (200,), changes=False),
    Action(
        f"{D}:revision-list",
        "post",
        "restore",
        APPROVE_DASH,
        (302,),
        data=lambda s: {"revision": s.revision.pk},
    ),
    Action(
        f"{D}:prompt-edit",
        "post",
        "",
        PROMPTS_DASH,
        (302,),
        data=lambda s: {"text": "Describe the {{ product_class }} in {{ words }} words."},
    ),
    # PUT reaches the form without data: a blank prompt, i.e. reset to the shipped default.
    Action(f"{D}:prompt-edit", "put", "", PROMPTS_DASH, (302,)),
    # -- dashboard: shoppers' questions
    Action(
        f"{D}:question-detail",
        "post",
        "answer",
        ANSWER_DASH,
        (302,),
        data=lambda s: {"action": "answer", "text": "It folds flat."},
    ),
    Action(
        f"{D}:question-detail",
        "post",
        "suggest",
        ANSWER_DASH,
        (302,),
        data=lambda s: {"action": "suggest"},
    ),
    Action(
        f"{D}:question-detail",
        "post",
        "publish",
        ANSWER_DASH,
        (302,),
        data=lambda s: {"action": "publish"},
        kwargs=question_kwargs("answered"),
    ),
    Action(
        f"{D}:question-detail",
        "post",
        "unpublish",
        ANSWER_DASH,
        (302,),
        data=lambda s: {"action": "unpublish"},
        kwargs=question_kwargs("published"),
    ),
    Action(
        f"{D}:question-detail",
        "post",
        "reject",
        ANSWER_DASH,
        (302,),
        data=lambda s: {"action": "reject", "reason": "spam"},
    ),
    Action(
        f"{D}:question-detail",
        "post",
        "unknown",
        ANSWER_DASH,
        (302,),
        changes=False,
        data=lambda s: {"action": "unknown"},
    ),
    # -- dashboard: fine-tuning
    Action(
        f"{D}:finetune",
        "post",
        "export",
        FINETUNE_DASH,
        (302,),
        data=lambda s: {
            "action": "export",
            "kinds": ["description", "answer"],
            "validation_share": "0.2",
        },
    ),
    Action(
        f"{D}:finetune",
        "post",
        "unknown",
        FINETUNE_DASH,
        (302,),
        changes=False,
        data=lambda s: {"action": "unknown"},
    ),
    Action(
        f"{D}:finetune-job",
        "post",
        "cancel",
        FINETUNE_DASH,
        (302,),
        data=lambda s: {"action": "cancel"},
    ),
    Action(
        f"{D}:finetune-model",
        "post",
        "",
        FINETUNE_DASH,
        (302,),
        data=lambda s: {f"model{s.ft_model.pk}-features": ["qa"]},
    ),
    # -- descriptions API
    Action(
        "oscar_gpt:job-list",
        "post",
        "create",
        GENERATE_API,
        (202,),
        data=lambda s: {"product_ids": [s.product.pk]},
    ),
    Action("oscar_gpt:job-cancel", "post", "", GENERATE_API, (200,)),
    Action("oscar_gpt:job-retry", "post", "", GENERATE_API, (200,)),
    Action(
        "oscar_gpt:draft-detail",
        "patch",
        "",
        APPROVE_API,
        (200,),
        data=lambda s: {"text": "Wireless headphones, light to wear."},
    ),
    Action("oscar_gpt:draft-approve", "post", "", APPROVE_API, (200,), data=lambda s: {}),
    Action(
        "oscar_gpt:draft-reject", "post", "", APPROVE_API, (200,), data=lambda s: {"reason": "x"}
    ),
    Action("oscar_gpt:revision-restore", "post", "", APPROVE_API, (201,)),
    # -- shopper doors: anyone, signed in or not
    Action(
        "oscar_gpt:api-qa-ask",
        "post",
        "",
        EVERYONE,
        (200, 202),
        data=lambda s: {"product": s.product.pk, "question": "Is it waterproof?"},
    ),
    Action(
        "oscar_gpt:api-qa-report",
        "post",
        "",
        EVERYONE,
        (200,),
        data=lambda s: {"reason": "Wrong."},
    ),
    # The finder reads and searches; it changes nothing.
    Action(
        "oscar_gpt:api-finder",
        "post",
        "",
        EVERYONE,
        (200,),
        changes=False,
        data=lambda s: {"text": "wireless headphones"},
    ),
    Action(
        "oscar_gpt:qa-ask",
        "post",
        "",
        EVERYONE,
        (302,),
        data=lambda s: {"question": "Is it waterproof?"},
    ),
    Action(
        "oscar_gpt:qa-report",
        "post",
        "",
        EVERYONE,
        (302,),
        data=lambda s: {"reason": "Wrong."},
    ),
]

# --- the sample shop ---------------------------------------------------------------------


@dataclass
class Shop:
    """One of everything a door's arguments name, on a product stocked by ``ours``."""

    product_class: Any
    ours: Any
    theirs: Any
    product: Any
    other: Any
    users: dict[str, Any]
    job: GenerationJob
    draft: Draft
    revision: Revision
    waiting: Question
    answered: Question
    published: Question
    export: TrainingExport
    ft_job: FineTuneJob
    ft_model: FineTunedModel
    clients: dict[str, Client] = field(default_factory=dict)


def make_user(role: str, django_user_model, name: str = ""):
    name = name or role.replace("+", "_plus")
    if role == "super":
        return django_user_model.objects.create_superuser(name, f"{name}@example.com", None)
    user = django_user_model.objects.create_user(
        name, f"{name}@example.com", None, is_staff=role in STAFF_ROLES
    )
    for perm in ROLE_PERMISSIONS[role]:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


def ask(product, text: str, **fields) -> Question:
    values = {"status": Question.Status.NEEDS_STAFF, "language": "en-gb"} | fields
    return Question.objects.create(
        product=product, text=text, normalised=qa_service.normalise(text), **values
    )


def build_shop(django_user_model, *, client_class=Client, **client_kwargs) -> Shop:
    product_class = headphones_class()
    ours = Partner.objects.create(name="Ours")
    theirs = Partner.objects.create(name="Theirs")
    product = headphones(product_class, description="Old text.")
    product.stockrecords.update(partner=ours)
    other = headphones(product_class, title="Otherwave", description="Their text.")
    other.stockrecords.update(partner=theirs)
    users = {role: make_user(role, django_user_model) for role in ROLES if role != "anon"}
    ours.users.add(users["partner"], users["partner+"])
    # A running job of the partner user's (so the API lets them at it too): one product
    # failed (retry), one pending draft without unsupported claims (approve-unflagged).
    job = GenerationJob.objects.create(
        created_by=users["partner+"],
        status=GenerationJob.Status.RUNNING,
        params={},
        params_hash="matrix",
    )
    GenerationJobItem.objects.create(
        job=job,
        product=product,
        product_title=product.title,
        status=GenerationJobItem.Status.FAILED,
        reason="Timed out.",
    )
    draft = Draft.objects.create(
        product=product,
        field="description",
        text="Wireless headphones.",
        language="en-gb",
        params_hash="matrix",
        backend="local",
        model="smollm2",
        job=job,
    )
    revision = Revision.objects.create(
        product=product, field="description", before="Older text.", after="Old text."
    )
    waiting = ask(product, "Does it fold flat?")
    answered = ask(
        product,
        "Is it wireless?",
        status=Question.Status.ANSWERED,
        answer="Yes, it is wireless.",
        source=Question.Source.MODEL,
        answered_at=timezone.now(),
    )
    published = ask(
        product,
        "How heavy is it?",
        status=Question.Status.ANSWERED,
        answer="It weighs 250 g.",
        source=Question.Source.STAFF,
        published=True,
        answered_at=timezone.now(),
    )
    LedgerEntry.objects.create(feature="descriptions", backend="local", model="m", status="ok")
    # A finished training data export with its summary file, a queued local fine-tune of
    # it, and the model an earlier fine-tune made.
    folder = Path(tempfile.mkdtemp(prefix="oscar-gpt-matrix-"))
    (folder / FINETUNE_FILES["summary"]).write_text("{}")
    export = TrainingExport.objects.create(
        status=TrainingExport.Status.DONE, directory=str(folder), summary={}
    )
    ft_job = FineTuneJob.objects.create(
        provider=FineTuneJob.Provider.LOCAL, export=export, backend="local"
    )
    ft_model = FineTunedModel.objects.create(
        alias="ft-matrix",
        provider=FineTuneJob.Provider.LOCAL,
        base_backend="local",
        model=str(folder),
    )
    shop = Shop(
        product_class=product_class,
        ours=ours,
        theirs=theirs,
        product=product,
        other=other,
        users=users,
        job=job,
        draft=draft,
        revision=revision,
        waiting=waiting,
        answered=answered,
        published=published,
        export=export,
        ft_job=ft_job,
        ft_model=ft_model,
    )
    for role in ROLES:
        client = client_class(**client_kwargs)
        if role != "anon":
            client.force_login(users[role])
        shop.clients[role] = client
    return shop


#: The arguments each door's URL takes, from the sample shop.
KWARGS: dict[str, Callable[[Shop], dict]] = {
    f"{D}:job-detail": lambda s: {"pk": s.job.pk},
    f"{D}:job-progress": lambda s: {"pk": s.job.pk},
    f"{D}:job-action": lambda s: {"pk": s.job.pk, "action": "cancel"},
    f"{D}:draft-review": lambda s: {"pk": s.draft.pk},
    f"{D}:revision-list": lambda s: {"pk": s.product.pk},
    f"{D}:prompt-edit": lambda s: {"class_id": s.product_class.pk, "field": "description"},
    f"{D}:question-detail": lambda s: {"pk": s.waiting.pk},
    f"{D}:finetune-export": lambda s: {"pk": s.export.pk},
    f"{D}:finetune-export-file": lambda s: {"pk": s.export.pk, "key": "summary"},
    f"{D}:finetune-job": lambda s: {"pk": s.ft_job.pk},
    f"{D}:finetune-job-progress": lambda s: {"pk": s.ft_job.pk},
    f"{D}:finetune-model": lambda s: {"pk": s.ft_model.pk},
    "oscar_gpt:api-recs-product": lambda s: {"product_id": s.product.pk},
    "oscar_gpt:api-recs-user": lambda s: {"user_id": s.users["customer"].pk},
    "oscar_gpt:job-detail": lambda s: {"pk": s.job.pk},
    "oscar_gpt:job-cancel": lambda s: {"pk": s.job.pk},
    "oscar_gpt:job-retry": lambda s: {"pk": s.job.pk},
    "oscar_gpt:draft-detail": lambda s: {"pk": s.draft.pk},
    "oscar_gpt:draft-approve": lambda s: {"pk": s.draft.pk},
    "oscar_gpt:draft-reject": lambda s: {"pk": s.draft.pk},
    "oscar_gpt:revision-detail": lambda s: {"pk": s.revision.pk},
    "oscar_gpt:revision-restore": lambda s: {"pk": s.revision.pk},
    "oscar_gpt:api-qa-question": lambda s: {"public_id": s.answered.public_id},
    "oscar_gpt:api-qa-report": lambda s: {"public_id": s.answered.public_id},
    "oscar_gpt:api-qa-faq": lambda s: {"product_id": s.product.pk},
    "oscar_gpt:qa-ask": lambda s: {"product_id": s.product.pk},
    "oscar_gpt:qa-question": lambda s: {"public_id": s.answered.public_id},
    "oscar_gpt:qa-report": lambda s: {"public_id": s.answered.public_id},
}


def url_for(shop: Shop, name: str, params=None, kwargs: dict | None = None) -> str:
    values = dict(kwargs if kwargs is not None else KWARGS.get(name, lambda s: {})(shop))
    if params is not None and "format" in params:
        values["format"] = "json"
    return reverse(name, kwargs=values)


def is_api(url: str) -> bool:
    return "/gpt/api/" in url


def state() -> dict[str, list]:
    """Everything an unsafe request could change, to compare before and after."""
    return {
        "jobs": list(GenerationJob.objects.order_by("pk").values_list("pk", "status")),
        "items": list(GenerationJobItem.objects.order_by("pk").values_list("pk", "status")),
        "drafts": list(Draft.objects.order_by("pk").values_list("pk", "status", "text")),
        "revisions": list(Revision.objects.order_by("pk").values_list("pk", "after")),
        "products": list(Product.objects.order_by("pk").values_list("pk", "description")),
        "prompts": list(PromptTemplate.objects.order_by("pk").values_list("pk", "text")),
        "questions": list(
            Question.objects.order_by("pk").values_list(
                "pk", "status", "answer", "published", "reports", "suggestion"
            )
        ),
        "exports": list(TrainingExport.objects.order_by("pk").values_list("pk", "status")),
        "finetune_jobs": list(FineTuneJob.objects.order_by("pk").values_list("pk", "status")),
        "finetuned": list(FineTunedModel.objects.order_by("pk").values_list("pk", "features")),
    }


def send(client: Client, method: str, url: str, data: dict | None):
    if data is None:
        return getattr(client, method)(url)
    if is_api(url):
        return getattr(client, method)(url, data, content_type="application/json")
    return getattr(client, method)(url, data)


def outcome_problem(expected: str, response, url: str, ok: tuple[int, ...]) -> str | None:
    """Why the response is not what the symbol says, or None."""
    status = response.status_code
    location = response.get("Location", "")
    login = reverse("dashboard:login")
    if expected == "L":
        if status == 302 and location.startswith(login):
            return None
        return f"expected the login page, got {status} {location}"
    if expected == "D":
        denied = {401, 403} if is_api(url) else {403}
        return None if status in denied else f"expected denied {sorted(denied)}, got {status}"
    if status not in ok:
        return f"expected {ok}, got {status} {location}"
    if status == 302 and location.startswith(login):
        return f"expected {ok} into the app, got the login page {location}"
    return None


def request_as(shop, role, method, url, data, expected, ok, changes) -> str | None:
    """One request in a rolled-back savepoint; what went wrong, or None."""
    with transaction.atomic():
        before = state()
        response = send(shop.clients[role], method, url, data)
        after = state()
        transaction.set_rollback(True)
    problem = outcome_problem(expected, response, url, ok)
    if problem is None and (expected != "A" or not changes) and after != before:
        problem = "changed the shop's data: " + ", ".join(
            key for key in before if before[key] != after[key]
        )
    if problem is None and expected == "A" and changes and after == before:
        problem = "was allowed but changed nothing"
    return problem


def keep_models_quiet(settings, monkeypatch) -> None:
    """Nothing is queued, "draft a suggestion" writes a canned one, and a backend being
    built fails the test; shopper rate limits are lifted (many requests, one address)."""
    from oscar_gpt.descriptions import service as descriptions
    from oscar_gpt.llm import registry

    settings.OSCAR_GPT = {
        **settings.OSCAR_GPT,
        "QA_REFRESH_IN_BACKGROUND": False,
        "FINDER_USE_MODEL": False,
        "RATE_LIMITS": {
            f"{family}_{kind}": None
            for family in ("qa", "qa_report", "finder", "recs")
            for kind in ("ip", "session", "user")
        },
    }
    monkeypatch.setattr(descriptions, "enqueue_job", lambda job: None)
    monkeypatch.setattr(qa_service, "_enqueue", lambda question_id: None)

    def suggest(question, *, user=None):
        question.suggestion = "It folds flat, going by the product's facts."
        question.save(update_fields=["suggestion"])
        return question

    monkeypatch.setattr(qa_service, "suggest", suggest)

    def no_backend(alias):
        raise AssertionError(f"a model backend ({alias}) was built in a security test")

    monkeypatch.setattr(registry, "build_backend", no_backend)
    registry.reset_backends()


@pytest.fixture(autouse=True)
def _no_model_calls(settings, monkeypatch):
    keep_models_quiet(settings, monkeypatch)


@pytest.fixture
def shop(django_user_model) -> Shop:
    return build_shop(django_user_model)


def failures_table(problems: dict[str, str]) -> str:
    return "\n".join(f"  {role:9} {problem}" for role, problem in problems.items())


# --- the tests ---------------------------------------------------------------------------


def test_every_door_has_a_row():
    names = {door.name for door in DOORS}
    # The walk found the app's doors (a broken walk must not pass as "nothing to check").
    assert {f"{D}:generate", f"{D}:question-detail", "oscar_gpt:draft-approve"} <= names
    assert names - set(GET_ROWS) == set(), "doors without an expectation row"
    assert set(GET_ROWS) - names == set(), "rows for doors that no longer exist"
    unsafe = {(door.name, m) for door in DOORS for m in door.methods if m in UNSAFE_METHODS}
    covered = {(action.name, action.method) for action in ACTIONS}
    assert unsafe - covered == set(), "unsafe methods without an expectation row"
    assert covered - unsafe == set(), "rows for unsafe methods no door handles"
    assert set(KWARGS) <= names


@pytest.mark.parametrize("door", DOORS, ids=[door.id for door in DOORS])
def test_get(shop, door):
    if door.name not in GET_ROWS:
        pytest.fail(f"{door.name} has no expectation row in GET_ROWS")
    symbols, ok = GET_ROWS[door.name]
    url = url_for(shop, door.name, door.params)
    problems = {}
    for role, expected in parse_roles(symbols).items():
        problem = request_as(shop, role, "get", url, None, expected, (ok,), changes=False)
        if problem:
            problems[role] = problem
    assert not problems, f"GET {url}\n{failures_table(problems)}"


@pytest.mark.parametrize("action", ACTIONS, ids=[action.id for action in ACTIONS])
def test_unsafe(shop, action):
    kwargs = action.kwargs(shop) if action.kwargs else None
    url = url_for(shop, action.name, kwargs=kwargs)
    data = action.data(shop) if action.data else None
    problems = {}
    for role, expected in parse_roles(action.roles).items():
        problem = request_as(
            shop, role, action.method, url, data, expected, action.ok, action.changes
        )
        if problem:
            problems[role] = problem
    assert not problems, f"{action.id}: {action.method.upper()} {url}\n{failures_table(problems)}"


# --- partner users: only what they stock -------------------------------------------------


def their_draft(shop: Shop) -> Draft:
    return Draft.objects.create(
        product=shop.other,
        field="description",
        text="Their draft.",
        language="en-gb",
        params_hash="matrix",
        backend="local",
        model="smollm2",
    )


def test_partner_users_only_reach_the_products_they_stock(shop):
    partner, staff = shop.clients["partner+"], shop.clients["super"]
    theirs = their_draft(shop)
    their_revision = Revision.objects.create(
        product=shop.other, field="description", before="Before.", after="Their text."
    )
    their_job = GenerationJob.objects.create(
        created_by=shop.users["generate"], params={}, params_hash="matrix"
    )

    # The generate page lists only their own products among those asked for...
    page = partner.get(
        reverse(f"{D}:generate"), {"product": [shop.product.pk, shop.other.pk]}
    ).content.decode()
    assert "Quietwave Pro" in page and "Otherwave" not in page
    # ...and generating for another partner's product is refused, nothing queued.
    before = GenerationJob.objects.count()
    refused = partner.post(
        reverse(f"{D}:generate"), generate_form(shop) | {"products": str(shop.other.pk)}
    )
    assert refused.status_code == 200 and GenerationJob.objects.count() == before
    refused = partner.post(
        reverse("oscar_gpt:job-list"),
        {"product_ids": [shop.other.pk]},
        content_type="application/json",
    )
    assert refused.status_code == 400 and GenerationJob.objects.count() == before

    # The API lists their drafts, revisions and jobs only; another's are not there at all.
    listed = partner.get(reverse("oscar_gpt:draft-list")).json()["results"]
    assert [d["id"] for d in listed] == [shop.draft.pk]
    listed = partner.get(reverse("oscar_gpt:revision-list")).json()["results"]
    assert [r["id"] for r in listed] == [shop.revision.pk]
    listed = partner.get(reverse("oscar_gpt:job-list")).json()["results"]
    assert [j["id"] for j in listed] == [shop.job.pk]
    for name, pk in [
        ("oscar_gpt:draft-detail", theirs.pk),
        ("oscar_gpt:revision-detail", their_revision.pk),
        ("oscar_gpt:job-detail", their_job.pk),
    ]:
        assert partner.get(reverse(name, args=[pk])).status_code == 404, name

    # Nor can they act on them.
    before = state()
    for name, pk, body in [
        ("oscar_gpt:draft-approve", theirs.pk, {}),
        ("oscar_gpt:draft-reject", theirs.pk, {}),
        ("oscar_gpt:revision-restore", their_revision.pk, {}),
        ("oscar_gpt:job-cancel", their_job.pk, {}),
        ("oscar_gpt:job-retry", their_job.pk, {}),
    ]:
        response = partner.post(reverse(name, args=[pk]), body, content_type="application/json")
        assert response.status_code == 404, name
    response = partner.patch(
        reverse("oscar_gpt:draft-detail", args=[theirs.pk]),
        {"text": "Mine now."},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert state() == before

    # Staff see both partners' drafts.
    listed = staff.get(reverse("oscar_gpt:draft-list")).json()["results"]
    assert {d["id"] for d in listed} == {shop.draft.pk, theirs.pk}


def test_partner_users_generating_from_the_product_list_queue_only_their_products(shop):
    """Oscar's product list bulk action: the selection is cut to what the user stocks, and
    staff without generate_descriptions are refused when the action runs."""
    from oscar_gpt.dashboard.bulk_actions import ACTION_KEY

    list_url = reverse("dashboard:catalogue-product-list")
    selection = {"action": ACTION_KEY, "selected_product": [shop.product.pk, shop.other.pk]}
    controls = {k: v for k, v in generate_form(shop).items() if k not in ("target", "products")}
    controls["select_all_standalones"] = "True"  # every selected product the user may pick

    def run(client):
        """Pick the products and the action, then confirm the intermediate form."""
        picked = client.post(list_url, selection)
        if picked.status_code != 302 or "key=" not in picked["Location"]:
            return picked
        return client.post(picked["Location"], controls)

    # Staff allowed into Oscar's product list, but without generate_descriptions.
    catalogue_staff = make_user("staff", type(shop.users["staff"]), name="catalogue_staff")
    for codename in ("view_product", "change_product"):
        catalogue_staff.user_permissions.add(
            Permission.objects.get(content_type__app_label="catalogue", codename=codename)
        )
    client = Client()
    client.force_login(catalogue_staff)
    before = GenerationJob.objects.count()
    assert run(client).status_code == 403
    assert run(shop.clients["customer"]).status_code == 403
    anonymous = run(shop.clients["anon"])
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    assert GenerationJob.objects.count() == before

    # A partner user holding the permission: a job for their own product alone.
    response = run(shop.clients["partner+"])
    assert response.status_code == 302, response.content[:500]
    job = GenerationJob.objects.latest("pk")
    assert GenerationJob.objects.count() == before + 1
    assert list(job.items.values_list("product_id", flat=True)) == [shop.product.pk]
