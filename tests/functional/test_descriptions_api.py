"""The descriptions API as an integration partner or a script would use it."""

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from oscar_gpt.descriptions import service
from oscar_gpt.descriptions.prompts import GenerationParams
from oscar_gpt.models import Draft, GenerationJob, Revision
from tests.functional.descriptions_helpers import headphones, headphones_class

pytestmark = pytest.mark.django_db

API = "/en-gb/gpt/api/descriptions"


@pytest.fixture
def staff(django_user_model):
    def make(*codenames):
        name = f"staff{django_user_model.objects.count()}"
        user = django_user_model.objects.create_user(
            name, f"{name}@example.com", "pw", is_staff=True
        )
        user.user_permissions.set(
            Permission.objects.filter(content_type__app_label="oscar_gpt", codename__in=codenames)
        )
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def test_start_a_job_and_read_its_status(staff, django_capture_on_commit_callbacks, monkeypatch):
    product = headphones(headphones_class())
    queued = []
    monkeypatch.setattr(service, "enqueue_job", queued.append)
    client = staff("generate_descriptions")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{API}/jobs/",
            {"product_ids": [product.pk], "length": "short", "keywords": ["wireless"]},
            format="json",
        )
    assert response.status_code == 202, response.content
    job = GenerationJob.objects.get(pk=response.json()["id"])
    assert queued == [job]
    assert job.params["keywords"] == ["wireless"] and job.params["length"] == "short"
    status = client.get(f"{API}/jobs/{job.pk}/").json()
    assert status["progress"]["total"] == 1 and status["status"] == "queued"
    assert client.post(f"{API}/jobs/{job.pk}/cancel/").json()["status"] == "cancelled"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"product_ids": []}, "product_ids"),
        ({"product_ids": [999999]}, "product_ids"),
        ({"product_ids": [1], "language": "xx"}, "language"),
        ({"product_ids": [1], "fields": ["price"]}, "fields"),
        ({"product_ids": [1], "variants": 50}, "variants"),
    ],
)
def test_bad_input_is_a_400_that_names_the_field(staff, body, field):
    response = staff("generate_descriptions").post(f"{API}/jobs/", body, format="json")
    assert response.status_code == 400 and field in response.json()
    assert not GenerationJob.objects.exists()


def test_permissions(staff, client):
    assert client.get(f"{API}/drafts/").status_code in (401, 403)
    assert staff().get(f"{API}/drafts/").status_code == 403  # staff without the permission
    assert staff("view_draft").get(f"{API}/drafts/").status_code == 200
    reader = staff("view_draft")
    assert reader.post(f"{API}/jobs/", {"product_ids": [1]}, format="json").status_code == 403


@pytest.mark.slow
def test_review_through_the_api(staff, local_backend):
    product = headphones(headphones_class(), description="Old text.")
    service.generate_drafts([product], GenerationParams(length="short"))
    draft = Draft.objects.get(product=product)
    client = staff("view_draft", "approve_descriptions")
    listed = client.get(f"{API}/drafts/", {"product": product.pk, "status": "pending"}).json()
    assert [d["id"] for d in listed["results"]] == [draft.pk]
    edited = client.patch(
        f"{API}/drafts/{draft.pk}/", {"text": "Made of steel, 99 hours."}, format="json"
    )
    assert edited.status_code == 200 and edited.json()["unsupported_claims"] >= 2
    blocked = client.post(f"{API}/drafts/{draft.pk}/approve/", {}, format="json")
    assert blocked.status_code == 400 and "override_reason" in blocked.json()
    fixed = client.post(
        f"{API}/drafts/{draft.pk}/approve/",
        {"text": "Wireless headphones with a 30 hour battery."},
        format="json",
    )
    assert fixed.status_code == 200 and fixed.json()["status"] == "approved"
    product.refresh_from_db()
    assert product.description == "<p>Wireless headphones with a 30 hour battery.</p>"
    revision = Revision.objects.get(product=product)
    restored = client.post(f"{API}/revisions/{revision.pk}/restore/")
    assert restored.status_code == 201
    product.refresh_from_db()
    assert product.description == "Old text."


def test_openapi_schema_lists_the_endpoints(admin_client):
    schema = admin_client.get("/en-gb/gpt/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for expected in (
        "/en-gb/gpt/api/descriptions/jobs/",
        "/en-gb/gpt/api/descriptions/drafts/{id}/approve/",
        "/en-gb/gpt/api/descriptions/revisions/{id}/restore/",
    ):
        assert expected in paths


def test_partner_users_only_reach_their_own_products(django_user_model, monkeypatch):
    from oscar.core.loading import get_model
    from oscar.test.factories import create_product

    monkeypatch.setattr(service, "enqueue_job", lambda job: None)
    Partner = get_model("partner", "Partner")
    ours = Partner.objects.create(name="Ours")
    product_class = headphones_class()
    mine = headphones(product_class, title="Mine")
    mine.stockrecords.update(partner=ours)
    other = create_product(title="Theirs", price=5, num_in_stock=1, partner_name="Theirs")
    user = django_user_model.objects.create_user("partner", "p@example.com", "pw")
    ours.users.add(user)
    user.user_permissions.set(
        Permission.objects.filter(
            codename__in=["dashboard_access", "generate_descriptions", "view_draft"]
        )
    )
    client = APIClient()
    client.force_authenticate(user)
    refused = client.post(f"{API}/jobs/", {"product_ids": [other.pk]}, format="json")
    assert refused.status_code == 400 and str(other.pk) in str(refused.json())
    accepted = client.post(f"{API}/jobs/", {"product_ids": [mine.pk]}, format="json")
    assert accepted.status_code == 202
    Draft.objects.create(
        product=other,
        field="description",
        text="x",
        params_hash="h",
        backend="local",
        model="m",
        language="en-gb",
    )
    assert client.get(f"{API}/drafts/").json()["results"] == []
