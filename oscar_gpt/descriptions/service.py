"""Product copy: every door (dashboard, admin, API, command, task) calls these functions."""

from __future__ import annotations

import html
import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.html import escape, strip_tags
from django.utils.translation import gettext as _
from oscar.core.loading import get_model

from .. import audit, llm
from ..app_settings import app_settings
from ..grounding import check_claims
from ..models import (
    DescriptionField,
    Draft,
    GenerationJob,
    GenerationJobItem,
    Revision,
)
from .facts import ProductFacts, product_facts
from .prompts import GenerationParams, build_messages, clean_output, max_tokens_for

logger = logging.getLogger(__name__)

Product = get_model("catalogue", "Product")


class DescriptionError(Exception):
    """Something a shop owner must be told, in words they can act on."""


class ApprovalBlocked(DescriptionError):
    """A draft with unsupported claims needs a written reason to be approved."""


@dataclass
class Outcome:
    drafts: list[Draft] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)


def _person(user):
    """The user to record as having done something; None for anonymous or a system run."""
    return user if getattr(user, "is_authenticated", False) else None


def _language(params: GenerationParams) -> str:
    return params.language.split("-")[0]


def check_text(text: str, facts: ProductFacts, params: GenerationParams):
    return check_claims(text, facts.grounding_facts(), language=_language(params))


def _products(product_ids: Iterable[int]):
    return (
        Product.objects.filter(pk__in=list(product_ids))
        .select_related("product_class", "parent")
        .prefetch_related("categories", "children", "product_options")
    )


# -- generation ----------------------------------------------------------------------------
def generate_drafts(
    products: Sequence,
    params: GenerationParams,
    *,
    job: GenerationJob | None = None,
    user=None,
) -> Outcome:
    """Generate, check and store drafts for ``products``; one batch per field.

    Raises a retryable :class:`oscar_gpt.llm.BackendError` when every backend is down, so the
    calling task can retry later; nothing is half-written in that case.
    """
    params.validate()
    outcome = Outcome()
    work = []  # (product, facts, field, variant)
    for product in products:
        facts = product_facts(product, include_reviews=params.include_reviews)
        missing = facts.missing()
        if missing:
            outcome.failed[product.pk] = _("Too little to write from: no %(missing)s.") % {
                "missing": _(" and no ").join(missing)
            }
            continue
        fields = list(params.fields)
        if params.only_empty:
            fields = [f for f in fields if not (getattr(product, f) or "").strip()]
        pending = set(
            Draft.objects.filter(
                product=product, status=Draft.Status.PENDING, params_hash=params.hash
            ).values_list("field", "variant")
        )
        todo = [(f, v) for f in fields for v in range(params.variants) if (f, v) not in pending]
        if not todo:
            outcome.skipped[product.pk] = (
                _("Already has a pending draft with these settings.")
                if fields
                else _("The fields are already filled in.")
            )
            continue
        work += [(product, facts, f, v) for f, v in todo]

    by_field = defaultdict(list)
    for item in work:
        by_field[item[2]].append(item)
    for field_name, items in by_field.items():
        results = _generate_best(items, field_name, params, user)
        for (product, _facts, _f, variant), (text, report, completions) in zip(
            items, results, strict=True
        ):
            draft = _store_draft(
                product, field_name, variant, text, report, completions, params, job, user
            )
            outcome.drafts.append(draft)
    if app_settings.DESCRIPTIONS_AUTO_PUBLISH and params.variants == 1:
        for draft in outcome.drafts:
            if not draft.flagged:
                approve(draft, user=None)
    return outcome


def _generate_best(items, field_name: str, params: GenerationParams, user):
    """Generate once, then regenerate drafts with unsupported claims and keep the best."""
    messages = [
        build_messages(facts, field_name, params, product.get_product_class())
        for product, facts, _f, _v in items
    ]
    best: list = [None] * len(items)
    history: list[list] = [[] for _ in items]
    todo = list(range(len(items)))
    attempts = 1 + max(0, app_settings.DESCRIPTIONS_REGENERATE_ATTEMPTS)
    for attempt in range(attempts):
        sampled = attempt > 0 or params.variants > 1
        try:
            completions = llm.chat_batch(
                "descriptions",
                [messages[i] for i in todo],
                objs=[items[i][0] for i in todo],
                user=user,
                max_tokens=max_tokens_for(field_name, params),
                temperature=app_settings.DESCRIPTIONS_TEMPERATURE if sampled else 0.0,
            )
        except llm.BudgetExceeded:
            if attempt == 0:
                raise
            break  # the drafts already paid for are kept; regenerating is a bonus
        retry = []
        for index, completion in zip(todo, completions, strict=True):
            text = clean_output(field_name, completion.text)
            report = check_text(text, items[index][1], params)
            history[index].append(completion)
            score = (len(report.unsupported), not text)
            if best[index] is None or score < best[index][0]:
                best[index] = (score, text, report)
            if (report.unsupported or not text) and _may_regenerate(completion):
                retry.append(index)
        todo = retry
        if not todo:
            break
    return [(text, report, history[i]) for i, (_score, text, report) in enumerate(best)]


def _may_regenerate(completion) -> bool:
    backend = llm.get_backend(completion.extra["backend"])
    return not backend.external or app_settings.DESCRIPTIONS_REGENERATE_EXTERNAL


@transaction.atomic
def _store_draft(product, field_name, variant, text, report, completions, params, job, user):
    # One pending draft per product, field and variant (a database constraint): the new one
    # supersedes the old.
    Draft.objects.filter(
        product=product, field=field_name, variant=variant, status=Draft.Status.PENDING
    ).update(status=Draft.Status.SUPERSEDED)
    last = completions[-1]
    draft = Draft.objects.create(
        product=product,
        field=field_name,
        variant=variant,
        text=text,
        generated_text=text,
        language=params.language,
        params=params.as_dict(),
        params_hash=params.hash,
        backend=last.extra.get("backend", ""),
        model=last.model,
        attempts=len(completions),
        claims=report.as_dict(),
        unsupported_claims=len(report.unsupported),
        job=job,
        created_by=_person(user),
    )
    draft.ledger_entries.set([c.extra["ledger_id"] for c in completions if "ledger_id" in c.extra])
    return draft


# -- jobs ------------------------------------------------------------------------------------
def select_products(
    *, user=None, product_ids: Sequence[int] = (), categories: Sequence = (), everything=False
) -> list[int]:
    """The products a request names: ids as given, plus the browsable products of each
    category (with its subcategories), plus the whole browsable catalogue when asked; only
    those ``user`` may see (staff: all; partner users: what they stock)."""
    from ..permissions import visible_products

    Category = get_model("catalogue", "Category")
    visible = visible_products(user) if user is not None else Product.objects.all()
    ids = list(visible.filter(pk__in=list(product_ids)).values_list("pk", flat=True))
    unknown = [pk for pk in product_ids if pk not in set(ids)]
    if unknown:
        raise DescriptionError(
            _("Unknown product id(s): %s.") % ", ".join(str(pk) for pk in unknown[:20])
        )
    for category in categories:
        ids += (
            visible.browsable()
            .filter(categories__in=Category.get_tree(category))
            .values_list("pk", flat=True)
        )
    if everything:
        ids += visible.browsable().values_list("pk", flat=True)
    return list(dict.fromkeys(ids))


def start_job(
    product_ids: Sequence[int], params: GenerationParams, *, user=None, enqueue: bool = True
) -> GenerationJob:
    """Record a job for ``product_ids`` and queue its tasks once the transaction commits
    (``enqueue=False``: the caller runs the chunks itself, as the command does)."""
    params.validate()
    ids = list(dict.fromkeys(int(pk) for pk in product_ids))
    if not ids:
        raise DescriptionError(_("No products selected."))
    found = dict(Product.objects.filter(pk__in=ids).values_list("pk", "title"))
    unknown = [pk for pk in ids if pk not in found]
    if unknown:
        raise DescriptionError(
            _("Unknown product id(s): %s.") % ", ".join(str(pk) for pk in unknown)
        )
    with transaction.atomic():
        job = GenerationJob.objects.create(
            created_by=_person(user),
            params=params.as_dict(),
            params_hash=params.hash,
        )
        GenerationJobItem.objects.bulk_create(
            GenerationJobItem(job=job, product_id=pk, product_title=(found[pk] or "")[:255])
            for pk in ids
        )
        if enqueue:
            transaction.on_commit(lambda: enqueue_job(job))
    return job


def enqueue_job(job: GenerationJob) -> None:
    """Queue a task per chunk of the job's pending products."""
    from ..tasks import generate_descriptions

    pending = list(
        job.items.filter(status=GenerationJobItem.Status.PENDING)
        .exclude(product=None)
        .values_list("product_id", flat=True)
    )
    size = max(1, app_settings.DESCRIPTIONS_BATCH_SIZE)
    for start in range(0, len(pending), size):
        generate_descriptions.delay(job.pk, pending[start : start + size])


def run_job_chunk(job_id: int, product_ids: Sequence[int]) -> None:
    """The work of one task: generate for the chunk's products still pending in the job."""
    try:
        job = GenerationJob.objects.get(pk=job_id)
    except GenerationJob.DoesNotExist:
        return
    if job.status in (GenerationJob.Status.CANCELLED, GenerationJob.Status.DONE):
        return
    if job.status == GenerationJob.Status.QUEUED:
        GenerationJob.objects.filter(pk=job.pk, status=GenerationJob.Status.QUEUED).update(
            status=GenerationJob.Status.RUNNING, started_at=timezone.now()
        )
    elif job.status == GenerationJob.Status.PAUSED:  # resumed: the budget has reset
        GenerationJob.objects.filter(pk=job.pk, status=GenerationJob.Status.PAUSED).update(
            status=GenerationJob.Status.RUNNING, paused_for="", resumes_at=None
        )
    items = {
        item.product_id: item
        for item in job.items.filter(
            product_id__in=list(product_ids), status=GenerationJobItem.Status.PENDING
        )
    }
    products = list(_products(items))
    outcome = Outcome()
    if products:
        params = GenerationParams.from_dict(job.params)
        try:
            outcome = generate_drafts(products, params, job=job, user=job.created_by)
        except llm.BudgetExceeded as exc:
            pause_job(job, exc, product_ids)
            return  # the items stay pending: nothing is lost
        except llm.BackendError as exc:
            if exc.retryable:
                raise  # the task retries; the items stay pending
            outcome.failed = {p.pk: str(exc) for p in products}
    found = {p.pk for p in products}
    for product_id, item in items.items():
        if product_id not in found:
            item.status, item.reason = GenerationJobItem.Status.FAILED, _("Product was deleted.")
        elif product_id in outcome.failed:
            item.status, item.reason = GenerationJobItem.Status.FAILED, outcome.failed[product_id]
        elif product_id in outcome.skipped:
            item.status, item.reason = GenerationJobItem.Status.SKIPPED, outcome.skipped[product_id]
        else:
            item.status, item.reason = GenerationJobItem.Status.DONE, ""
        item.save(update_fields=["status", "reason", "updated_at"])
    finish_if_complete(job)


def fail_chunk(job_id: int, product_ids: Sequence[int], error: Exception) -> None:
    """The backends stayed down through every retry of a chunk: its products still pending
    fail, saying why, and the job ends when nothing else is pending."""
    job = GenerationJob.objects.filter(pk=job_id).first()
    if job is None:
        return
    job.items.filter(
        product_id__in=list(product_ids), status=GenerationJobItem.Status.PENDING
    ).update(
        status=GenerationJobItem.Status.FAILED,
        reason=_("The model could not be reached: %(error)s") % {"error": error},
        updated_at=timezone.now(),
    )
    finish_if_complete(job)


def pause_job(job: GenerationJob, exc: llm.BudgetExceeded, product_ids: Sequence[int]) -> None:
    """The descriptions budget ran out: the job shows that it waits and until when, and the
    chunk is queued again for the moment the budget resets (a fresh message, so a pause never
    uses up the task's retries). Drafts already written are kept; the chunk's products stay
    pending and are taken up where they stopped."""
    from ..tasks import generate_descriptions

    paused = GenerationJob.objects.filter(
        pk=job.pk,
        status__in=[
            GenerationJob.Status.QUEUED,
            GenerationJob.Status.RUNNING,
            GenerationJob.Status.PAUSED,
        ],
    ).update(status=GenerationJob.Status.PAUSED, paused_for=exc.period, resumes_at=exc.resets_at)
    if not paused:  # cancelled meanwhile: nothing to resume
        return
    logger.info("Job #%s paused until %s: %s", job.pk, exc.resets_at, exc)
    ids = [int(pk) for pk in product_ids]
    transaction.on_commit(
        lambda: generate_descriptions.apply_async((job.pk, ids), eta=exc.resets_at)
    )


def finish_if_complete(job: GenerationJob) -> None:
    # Items whose product was deleted before the task ran can never be picked up.
    job.items.filter(status=GenerationJobItem.Status.PENDING, product=None).update(
        status=GenerationJobItem.Status.FAILED, reason=_("Product was deleted.")
    )
    if not job.items.filter(status=GenerationJobItem.Status.PENDING).exists():
        GenerationJob.objects.filter(
            pk=job.pk, status__in=[GenerationJob.Status.QUEUED, GenerationJob.Status.RUNNING]
        ).update(status=GenerationJob.Status.DONE, finished_at=timezone.now())


def job_progress(job: GenerationJob) -> dict:
    counts = job.items.aggregate(
        total=Count("id"),
        done=Count("id", filter=Q(status=GenerationJobItem.Status.DONE)),
        skipped=Count("id", filter=Q(status=GenerationJobItem.Status.SKIPPED)),
        failed=Count("id", filter=Q(status=GenerationJobItem.Status.FAILED)),
    )
    finished = counts["done"] + counts["skipped"] + counts["failed"]
    counts["percent"] = round(100 * finished / counts["total"]) if counts["total"] else 100
    counts["status"] = job.status
    counts["drafts"] = job.drafts.count()
    counts["flagged"] = job.drafts.filter(unsupported_claims__gt=0).count()
    counts["failures"] = list(
        job.items.filter(status=GenerationJobItem.Status.FAILED).values(
            "product_id", "product_title", "reason"
        )
    )
    return counts


def cancel_job(job: GenerationJob) -> None:
    GenerationJob.objects.filter(
        pk=job.pk,
        status__in=[
            GenerationJob.Status.QUEUED,
            GenerationJob.Status.RUNNING,
            GenerationJob.Status.PAUSED,
        ],
    ).update(status=GenerationJob.Status.CANCELLED, finished_at=timezone.now())


def retry_failed(job: GenerationJob) -> int:
    """Put the job's failed products (that still exist) back in the queue."""
    count = (
        job.items.filter(status=GenerationJobItem.Status.FAILED)
        .exclude(product=None)
        .update(status=GenerationJobItem.Status.PENDING, reason="")
    )
    if count:
        GenerationJob.objects.filter(pk=job.pk).update(
            status=GenerationJob.Status.RUNNING, finished_at=None
        )
        transaction.on_commit(lambda: enqueue_job(job))
    return count


# -- review ----------------------------------------------------------------------------------
def _locked_pending(draft: Draft) -> Draft:
    draft = Draft.objects.select_for_update().select_related("product").get(pk=draft.pk)
    if draft.status != Draft.Status.PENDING:
        raise DescriptionError(
            _("This draft is no longer pending (it is %s).") % draft.get_status_display()
        )
    return draft


@transaction.atomic
def edit(draft: Draft, text: str, *, user=None) -> Draft:
    """A reviewer's edit; the claims check runs again on the new text."""
    draft = _locked_pending(draft)
    text = (text or "").strip()
    if not text:
        raise DescriptionError(_("The text can't be empty."))
    params = GenerationParams.from_dict(draft.params)
    text = clean_output(draft.field, text) if draft.field != DescriptionField.DESCRIPTION else text
    report = check_text(
        text, product_facts(draft.product, include_reviews=params.include_reviews), params
    )
    before = draft.text
    draft.text, draft.edited = text, True
    draft.claims, draft.unsupported_claims = report.as_dict(), len(report.unsupported)
    draft.save(update_fields=["text", "edited", "claims", "unsupported_claims"])
    audit.record(audit.Action.DRAFT_EDITED, draft, user=user, before=before, after=text)
    return draft


def approve(
    draft: Draft, *, user=None, text: str | None = None, override_reason: str = ""
) -> Draft:
    """Publish a draft to its product field, keeping the previous text as a revision.

    A changed ``text`` is saved (and re-checked) first, so a reviewer's edit is kept even
    when the approval itself is refused.
    """
    if text is not None and text.strip() != draft.text:
        draft = edit(draft, text, user=user)
    with transaction.atomic():
        return _approve(draft, user=user, override_reason=override_reason)


_BULLET_LINE = re.compile(r"^\s*(?:[-*\u2022])\s+")


def as_html(text: str) -> str:
    """Plain generated text as the HTML Oscar shows (``{{ product.description|safe }}``):
    everything escaped, blank lines make paragraphs, "- " lines make a list. Model output
    never reaches the product page as markup."""
    blocks = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        if all(_BULLET_LINE.match(line) for line in lines):
            items = "".join(f"<li>{escape(_BULLET_LINE.sub('', line))}</li>" for line in lines)
            blocks.append(f"<ul>{items}</ul>")
        else:
            blocks.append("<p>" + "<br>".join(escape(line) for line in lines) + "</p>")
    return "\n".join(blocks)


def as_text(html_text: str) -> str:
    """The plain text of a field that may hold HTML (the reverse of :func:`as_html`)."""
    text = re.sub(r"</(?:p|li|ul)>|<br\s*/?>", "\n", html_text or "", flags=re.IGNORECASE)
    text = re.sub(r"<li>", "- ", text, flags=re.IGNORECASE)
    return html.unescape(strip_tags(text)).strip()


def _approve(draft: Draft, *, user, override_reason: str) -> Draft:
    draft = _locked_pending(draft)
    override_reason = (override_reason or "").strip()
    if draft.flagged and not override_reason:
        raise ApprovalBlocked(
            _(
                "This draft has %(count)d unsupported claim(s). Edit it, or give a reason to "
                "approve it anyway."
            )
            % {"count": draft.unsupported_claims}
        )
    published = as_html(draft.text) if draft.field == DescriptionField.DESCRIPTION else draft.text
    revision = _write_field(draft.product, draft.field, published, user=user, draft=draft)
    audit.record(
        audit.Action.DRAFT_OVERRIDDEN if draft.flagged else audit.Action.DRAFT_APPROVED,
        draft,
        user=user,
        before=revision.before,
        after=revision.after,
        reason=override_reason if draft.flagged else "",
    )
    draft.status = Draft.Status.APPROVED
    draft.reviewed_by = _person(user)
    draft.reviewed_at = timezone.now()
    draft.override_reason = override_reason if draft.flagged else ""
    draft.save(update_fields=["status", "reviewed_by", "reviewed_at", "override_reason"])
    Draft.objects.filter(
        product_id=draft.product_id, field=draft.field, status=Draft.Status.PENDING
    ).update(status=Draft.Status.SUPERSEDED)
    return draft


@transaction.atomic
def reject(draft: Draft, *, user=None, reason: str = "") -> Draft:
    draft = _locked_pending(draft)
    draft.status = Draft.Status.REJECTED
    draft.reject_reason = (reason or "").strip()
    draft.reviewed_by = _person(user)
    draft.reviewed_at = timezone.now()
    draft.save(update_fields=["status", "reject_reason", "reviewed_by", "reviewed_at"])
    audit.record(
        audit.Action.DRAFT_REJECTED, draft, user=user, before=draft.text, reason=draft.reject_reason
    )
    return draft


def approve_unflagged(job: GenerationJob, *, user=None) -> int:
    """Approve every pending draft of a job that has no unsupported claims (one variant each)."""
    approved = 0
    seen = set()
    drafts = job.drafts.filter(status=Draft.Status.PENDING, unsupported_claims=0).order_by(
        "variant"
    )
    for draft in drafts:
        key = (draft.product_id, draft.field)
        if key in seen:
            continue
        seen.add(key)
        try:
            approve(draft, user=user)
        except DescriptionError:
            continue
        approved += 1
    return approved


def _write_field(product, field_name: str, text: str, *, user=None, draft=None, restored_from=None):
    product = Product.objects.select_for_update().get(pk=product.pk)
    before = getattr(product, field_name) or ""
    setattr(product, field_name, text)
    product.save(update_fields=[field_name, "date_updated"])
    return Revision.objects.create(
        product=product,
        field=field_name,
        before=before,
        after=text,
        user=_person(user),
        draft=draft,
        restored_from=restored_from,
    )


@transaction.atomic
def restore(revision: Revision, *, user=None) -> Revision:
    """Put a field back to what it was before ``revision``; restoring is a revision too."""
    restored = _write_field(
        revision.product, revision.field, revision.before, user=user, restored_from=revision
    )
    audit.record(
        audit.Action.REVISION_RESTORED,
        restored.product,
        user=user,
        before=restored.before,
        after=restored.after,
        reason=f"{revision.get_field_display()}: revision #{revision.pk}",
    )
    return restored
