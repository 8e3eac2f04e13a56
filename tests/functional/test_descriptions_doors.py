"""The other doors into descriptions: the management command and the Django admin action."""

import pytest
from django.core.management import CommandError, call_command

from oscar_gpt.models import Draft, GenerationJob
from tests.functional.descriptions_helpers import headphones, headphones_class

pytestmark = pytest.mark.django_db


@pytest.mark.slow
def test_command_generates_with_a_progress_bar(local_backend, capsys):
    product_class = headphones_class()
    products = [headphones(product_class, title=f"Quietwave {n}") for n in range(2)]
    call_command(
        "oscar_gpt_generate", product=[p.pk for p in products], field=["meta_title"], length="short"
    )
    out = capsys.readouterr().out
    assert "[" in out and "2/2" in out and "2 done" in out
    drafts = Draft.objects.filter(field="meta_title")
    assert drafts.count() == 2
    assert all(0 < len(d.text) <= 60 for d in drafts)
    # --only-empty on products whose meta title is filled: nothing to do
    for product in products:
        product.meta_title = "Already written"
        product.save()
    call_command(
        "oscar_gpt_generate",
        product=[p.pk for p in products],
        field=["meta_title"],
        only_empty=True,
    )
    assert "2 skipped" in capsys.readouterr().out


def test_command_rejects_bad_input():
    with pytest.raises(CommandError, match="--product, --category or --all"):
        call_command("oscar_gpt_generate")
    with pytest.raises(CommandError, match="Unknown product"):
        call_command("oscar_gpt_generate", product=[424242])
    with pytest.raises(CommandError, match="Unsupported language"):
        call_command("oscar_gpt_generate", all=True, language="tlh")
    with pytest.raises(CommandError, match="Unknown category"):
        call_command("oscar_gpt_generate", category=["nope"])
    assert not GenerationJob.objects.exists()


def test_command_queue_only_records_the_job(monkeypatch, capsys):
    from oscar_gpt.descriptions import service

    queued = []
    monkeypatch.setattr(service, "enqueue_job", queued.append)
    product = headphones(headphones_class())
    call_command("oscar_gpt_generate", product=[product.pk], queue=True)
    job = GenerationJob.objects.get()
    assert f"Queued job #{job.pk}" in capsys.readouterr().out
    assert job.items.get().product == product


def test_admin_action_on_products(admin_client, monkeypatch, django_capture_on_commit_callbacks):
    from oscar_gpt.descriptions import service

    queued = []
    monkeypatch.setattr(service, "enqueue_job", queued.append)
    product = headphones(headphones_class())
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/catalogue/product/",
            {"action": "generate_descriptions", "_selected_action": [product.pk]},
            follow=True,
        )
    job = GenerationJob.objects.get()
    assert queued == [job] and job.items.get().product == product
    assert f"#{job.pk}</a> queued for 1 product(s)" in response.content.decode()


def test_prompt_per_product_class_from_the_dashboard(admin_client):
    from oscar_gpt.descriptions.facts import product_facts
    from oscar_gpt.descriptions.prompts import GenerationParams, build_messages

    product_class = headphones_class()
    product = headphones(product_class)
    listing = admin_client.get("/en-gb/dashboard/gpt/prompts/")
    assert listing.status_code == 200 and b"Headphones" in listing.content
    url = f"/en-gb/dashboard/gpt/prompts/{product_class.pk}/description/"
    assert b"Shipped default" in admin_client.get(url).content
    broken = admin_client.post(url, {"text": "Write {% if %}"})
    assert b"Template error" in broken.content
    admin_client.post(url, {"text": "Write for audiophiles in {{ language_name }}."})
    facts = product_facts(product)
    user_message = build_messages(facts, "description", GenerationParams(), product_class)[1]
    assert user_message["content"].endswith("Write for audiophiles in British English.")
    # the facts always come first, fenced as data
    assert user_message["content"].startswith('Here are the facts about a product:\n"""\nTitle:')
    admin_client.post(url, {"text": ""})  # blank: back to the shipped default
    user_message = build_messages(facts, "description", GenerationParams(), product_class)[1]
    assert "audiophiles" not in user_message["content"]
