"""Training data export: only what people wrote or approved, scrubbed, deduplicated, split by
product, in OpenAI's chat format and the local trainer's, with counts, tokens and a cost.

Products, drafts and questions go through the app's own services (approve, staff_answer),
so the revision history and the audit trail are the real ones; the tokenizer is the default
local model's.
"""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings
from oscar.core.loading import get_model
from oscar.test.factories import create_product

from oscar_gpt.descriptions import service as descriptions
from oscar_gpt.descriptions.facts import product_facts
from oscar_gpt.descriptions.prompts import GenerationParams, build_messages
from oscar_gpt.finetune import export as exporting
from oscar_gpt.finetune import service
from oscar_gpt.models import Draft, Question, TrainingExport
from oscar_gpt.qa import service as qa
from tests.functional.descriptions_helpers import headphones, headphones_class

pytestmark = pytest.mark.django_db

Product = get_model("catalogue", "Product")

HUMAN = (
    "Soft cushions and a quiet, steady sound. Write to jane.roe@example.com or call "
    "020 7946 0958 for a fitting."
)


@pytest.fixture
def gpt_settings(settings, tmp_path):
    settings.OSCAR_GPT = settings.OSCAR_GPT | {"FINETUNE_DIR": str(tmp_path / "finetune")}
    return settings


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(
        "reviewer", "reviewer@example.com", "pw", is_staff=True, first_name="Petra",
        last_name="Quill",
    )  # fmt: skip


@pytest.fixture
def shop():
    product_class = headphones_class()
    return {
        "class": product_class,
        "approved": headphones(product_class, "Quietwave Pro"),
        "human": headphones(product_class, "Marlow Voyager", description=HUMAN),
        "thin": create_product(title="Mystery box", description="A box. " * 20),
        **{f"extra{i}": headphones(product_class, f"Kestrel {i}") for i in range(6)},
    }


def draft(product, text, *, status=Draft.Status.PENDING, **params) -> Draft:
    values = GenerationParams(**params)
    return Draft.objects.create(
        product=product,
        field="description",
        text=text,
        generated_text=text,
        language=values.language,
        params=values.as_dict(),
        params_hash=values.hash,
        backend="local",
        model="SmolLM2",
        status=status,
    )


def all_text(directory) -> str:
    return "\n".join(p.read_text() for p in directory.iterdir())


def run(tmp_path, **options):
    examples, info = exporting.collect(**options)
    summary = exporting.write(tmp_path / "out", examples, info)
    return examples, summary, tmp_path / "out"


def test_only_drafts_a_person_approved_are_learnt_from(shop, staff, tmp_path):
    approved = draft(shop["approved"], "Approved copy: thirty hours of quiet.", tone="luxury")
    descriptions.approve(approved, user=staff)
    draft(shop["extra0"], "PENDING-DRAFT text")
    rejected = draft(shop["extra1"], "REJECTED-DRAFT text")
    descriptions.reject(rejected, user=staff)
    auto = draft(shop["extra2"], "AUTO-PUBLISHED text, approved by nobody")
    descriptions.approve(auto, user=None)  # DESCRIPTIONS_AUTO_PUBLISH does this
    draft(shop["extra3"], "SUPERSEDED text", status=Draft.Status.SUPERSEDED)
    draft(shop["extra3"], "newer pending")

    examples, summary, out = run(tmp_path, kinds=["description"])

    copy = {e.product_id: e for e in examples}
    learnt = copy[shop["approved"].pk]
    assert learnt.source == "draft" and learnt.target == "Approved copy: thirty hours of quiet."
    # the prompt is the generator's own, with the draft's settings (tone luxury)
    params = GenerationParams.from_dict(approved.params)
    facts = product_facts(shop["approved"])
    facts.description = ""
    assert learnt.messages[:-1] == build_messages(
        facts, "description", params, shop["approved"].get_product_class()
    )
    assert "refined and understated" in learnt.messages[1]["content"]
    text = all_text(out)
    for unreviewed in ("PENDING-DRAFT", "REJECTED-DRAFT", "AUTO-PUBLISHED", "SUPERSEDED", "newer"):
        assert unreviewed not in text
    # the auto-published text is in the product now, but the revisions say the app wrote it
    assert shop["extra2"].pk not in copy
    assert summary["left_out"]["app_written_texts"] == 1
    assert summary["left_out"]["drafts_not_approved_by_a_person"] == 5


def test_human_descriptions_are_used_where_no_draft_was_approved_and_scrubbed(shop, tmp_path):
    examples, summary, out = run(tmp_path, kinds=["description"])

    human = next(e for e in examples if e.product_id == shop["human"].pk)
    assert human.source == "human"
    assert human.target.startswith("Soft cushions and a quiet, steady sound.")
    assert "jane.roe@example.com" not in human.target and "[email]" in human.target
    assert "7946" not in human.target and "[phone]" in human.target
    assert "jane.roe" not in all_text(out) and "7946 0958" not in all_text(out)
    assert summary["scrubbed"] == {"email": 1, "phone": 1}
    # a product with no attributes teaches nothing the prompt shows: left out
    assert shop["thin"].pk not in {e.product_id for e in examples}
    assert summary["left_out"]["too_few_facts"] == 1


def test_html_descriptions_become_the_plain_text_the_generator_writes(shop, tmp_path):
    shop["extra4"].description = "<p>First &amp; best.</p><ul><li>Light</li><li>Loud</li></ul>"
    shop["extra4"].save()
    examples, _summary, _out = run(tmp_path, kinds=["description"])
    example = next(e for e in examples if e.product_id == shop["extra4"].pk)
    assert example.target == "First & best.\n\n- Light\n- Loud"
    assert example.params["format"] == "both"  # a paragraph, then bullets


def test_a_human_texts_prompt_asks_for_what_the_text_is(shop, tmp_path):
    shop["extra5"].description = "Headphones for trains: quiet, light and thirty hours a charge."
    shop["extra5"].save()
    examples, _summary, _out = run(tmp_path, kinds=["description"])
    example = next(e for e in examples if e.product_id == shop["extra5"].pk)
    # ten words: "short" (40) is nearer than "medium" (80); it names the product's class
    assert example.params["length"] == "short" and example.params["format"] == "paragraph"
    assert example.params["keywords"] == ["headphones"]
    prompt = example.messages[1]["content"]
    assert "about 40 words" in prompt and "Use these words naturally: headphones." in prompt
    assert "Write one or two paragraphs of plain text." in prompt


def test_duplicates_are_removed(shop, staff, tmp_path):
    same = "The same words, approved twice."
    descriptions.approve(draft(shop["approved"], same, tone="luxury"), user=staff)
    descriptions.approve(draft(shop["approved"], same, tone="playful"), user=staff)
    first = qa.ask(shop["human"], "How long does the battery last?", enqueue=False)
    qa.staff_answer(first, "About 30 hours on one charge.", user=staff)
    again = qa.ask(shop["human"], "how long does the battery last", enqueue=False)
    qa.staff_answer(again, "It lasts 30 hours.", user=staff)

    examples, summary, _out = run(tmp_path)

    assert sum(e.product_id == shop["approved"].pk for e in examples) == 1
    answers = [e for e in examples if e.kind == "answer"]
    assert len(answers) == 1 and answers[0].ref == f"question:{again.pk}"  # the newest
    assert summary["left_out"]["duplicates"] == 2


def test_a_staff_answer_is_learnt_with_the_evidence_the_qa_shows_and_cites_it(
    shop, staff, django_user_model, tmp_path
):
    shopper = django_user_model.objects.create_user(
        "shopper", "s@example.com", "pw", first_name="Ottoline", last_name="Brisk"
    )
    question = qa.ask(shop["human"], "How long does the battery last?", user=shopper,
                      enqueue=False)  # fmt: skip
    qa.staff_answer(
        question, "Hello Ottoline, it lasts 30 hours. Petra Quill, customer care", user=staff
    )
    unanswered = qa.ask(shop["human"], "Is it good for running?", enqueue=False)
    model_answer = qa.ask(shop["extra5"], "Does it have noise cancelling?", enqueue=False)
    Question.objects.filter(pk=model_answer.pk).update(
        status="answered", source="model", answer="MODEL-ANSWER not reviewed"
    )

    examples, _summary, out = run(tmp_path, kinds=["answer"])

    assert [e.ref for e in examples] == [f"question:{question.pk}"]
    example = examples[0]
    user = example.messages[1]["content"]
    assert "How long does the battery last?" in user
    evidence = [line for line in user.splitlines() if line.startswith("[E")]
    cited = next(i for i, line in enumerate(evidence, 1) if "Battery life: 30 hours" in line)
    assert example.target.endswith(f"[E{cited}]") and example.supported
    # the shopper's and the staff member's names are scrubbed; the rest is kept
    assert "Ottoline" not in example.target and "Petra" not in example.target
    assert "it lasts 30 hours" in example.target
    text = all_text(out)
    assert "MODEL-ANSWER" not in text and unanswered.text not in text


def test_the_split_keeps_each_product_and_its_variants_on_one_side(shop, staff, tmp_path):
    parent = create_product(
        product_class="Headphones",
        title="Trail pair",
        structure="parent",
        description="Light trail headphones that stay put on a run.",
    )
    parent.attr.weight_g = 200.0
    parent.save()
    child = Product.objects.create(structure="child", parent=parent, title="Trail pair, red")
    child.attr.weight_g = 210.0
    child.save()
    descriptions.approve(draft(child, "Red, light and made for trails."), user=staff)

    examples, summary, _out = run(tmp_path, kinds=["description"], validation_share=0.3)

    family = [e for e in examples if e.product_id in (parent.pk, child.pk)]
    assert len(family) == 2 and {e.group for e in family} == {parent.pk}
    sides = {}
    for example in examples:
        sides.setdefault(example.group, set()).add(example.split)
    assert all(len(s) == 1 for s in sides.values())
    assert {"train", "validation"} == {s for ss in sides.values() for s in ss}
    again, _info = exporting.collect(kinds=["description"], validation_share=0.3)
    assert [(e.ref, e.split) for e in again] == [(e.ref, e.split) for e in examples]
    # Another seed, another split: with a handful of products two seeds may draw the same
    # one, so some seed of the next ten must differ (which one depends on the products' ids).
    splits = (
        [e.split for e in exporting.collect(kinds=["description"], validation_share=0.3, seed=s)[0]]
        for s in range(7, 17)
    )
    assert any(split != [e.split for e in examples] for split in splits)
    counts = summary["counts"]
    assert counts["train"]["products"] + counts["validation"]["products"] == len(sides)


def test_split_rules_for_small_catalogues():
    def example(group):
        return exporting.Example("description", group, group, [], "human", f"p{group}")

    two = [example(1), example(2)]
    exporting.split_by_product(two, 0.2, seed=1)
    assert sorted(e.split for e in two) == ["train", "validation"]
    one = [example(1)]
    exporting.split_by_product(one, 0.5, seed=1)
    assert one[0].split == "train"
    none = [example(1), example(2), example(3)]
    exporting.split_by_product(none, 0.0, seed=1)
    assert {e.split for e in none} == {"train"}


def test_files_are_openai_chat_jsonl_and_the_local_dataset(shop, staff, tmp_path):
    descriptions.approve(draft(shop["approved"], "Approved copy."), user=staff)
    question = qa.ask(shop["human"], "How heavy are they?", enqueue=False)
    qa.staff_answer(question, "They weigh 250 grams.", user=staff)

    examples, summary, out = run(tmp_path, validation_share=0.3)

    assert sorted(p.name for p in out.iterdir()) == sorted(exporting.FILES.values())
    for split in ("train", "validation"):
        hosted = [json.loads(line) for line in (out / f"openai-{split}.jsonl").open()]
        local = exporting.read_examples(out / f"{split}.jsonl")
        assert len(hosted) == len(local) == summary["counts"][split]["total"] > 0
        for row in hosted:
            assert list(row) == ["messages"]
            assert [m["role"] for m in row["messages"]] == ["system", "user", "assistant"]
            assert all(set(m) == {"role", "content"} and m["content"] for m in row["messages"])
        for record, row in zip(local, hosted, strict=True):
            assert record["messages"] == row["messages"] and record["split"] == split
            assert record["kind"] in ("description", "answer") and record["id"] == record["ref"]
            assert record["tokens"] > 0
    assert summary["counts"]["train"]["tokens"] == sum(
        r["tokens"] for r in exporting.read_examples(out / "train.jsonl")
    )
    assert summary["tokens"]["tokenizer"] == "SmolLM2-135M-Instruct.Q4_1"
    assert json.loads((out / "summary.json").read_text()) == summary


def test_tokens_are_the_local_models_chat_template_tokens():
    count, label = exporting.token_counter("local")
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
    ]
    # <|im_start|> system \n Be  brief . <|im_end|> \n   (8)
    # <|im_start|> user \n Hi <|im_end|> \n              (6)
    # <|im_start|> ass istant \n Hello <|im_end|> \n     (7)
    assert count(messages) == 21 and label == "SmolLM2-135M-Instruct.Q4_1"
    assert count(messages + messages[1:]) == 21 + 13


def test_hosted_cost_estimate_follows_the_price_table_and_openais_epoch_rule():
    prices = {"tiny-ft": {"TRAINING": "3.00", "INPUT": "0.30", "OUTPUT": "1.20"}}
    with override_settings(OSCAR_GPT={"FINETUNE_PRICES": prices}):
        # 10 examples x 3 epochs < 100 examples: auto picks ceil(100 / 10) = 10 epochs
        estimate = exporting.hosted_estimate(10_000, 10, model="tiny-ft")
        assert estimate == {
            "model": "tiny-ft",
            "epochs": 10,
            "trained_tokens": 100_000,
            "usd_per_million": "3.00",
            "cost_usd": "0.3000",
        }
        assert exporting.hosted_estimate(10_000, 200, model="tiny-ft")["epochs"] == 3
        assert exporting.hosted_estimate(10_000, 20_000, model="tiny-ft")["epochs"] == 1
        # 20,000 trained tokens at $3.00 a million
        assert exporting.hosted_estimate(10_000, 10, model="tiny-ft", epochs=2)["cost_usd"] == (
            "0.0600"
        )
        assert exporting.hosted_estimate(1000, 10, model="unpriced")["cost_usd"] is None


def test_the_command_exports_and_prints_the_summary(shop, staff, gpt_settings, tmp_path):
    descriptions.approve(draft(shop["approved"], "Approved copy."), user=staff)
    out = StringIO()
    call_command("oscar_gpt_export_training_data", "--kind", "description", stdout=out)

    export = TrainingExport.objects.get()
    assert export.status == TrainingExport.Status.DONE and export.created_by is None
    assert export.directory.startswith(str(tmp_path / "finetune" / "exports"))
    total = (
        export.summary["counts"]["train"]["total"] + export.summary["counts"]["validation"]["total"]
    )
    assert total == 2  # the approved draft and the human text (the thin product is left out)
    text = out.getvalue()
    assert f"Export #{export.pk}" in text and "trained tokens, about $" in text
    assert "left out: too few facts: 1" in text
    assert service.export_file(export, "openai_train").is_file()
