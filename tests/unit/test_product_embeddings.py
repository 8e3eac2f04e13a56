"""Product embeddings with the real all-MiniLM-L6-v2 model: what is embedded, when a product
is embedded again, the in-process matrix and the nearest products."""

from __future__ import annotations

import numpy as np
import pytest
from oscar.core.loading import get_model
from oscar.test.factories import CategoryFactory, ProductCategoryFactory, create_product

from oscar_gpt.models import ProductVector
from oscar_gpt.recommendations import embeddings
from tests.functional.descriptions_helpers import headphones, headphones_class

Product = get_model("catalogue", "Product")


class Counting:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, embedder):
        self.embedder = embedder
        self.name = embedder.name
        self.texts: list[str] = []

    def embed(self, texts):
        self.texts += list(texts)
        return self.embedder.embed(texts)


@pytest.fixture(autouse=True)
def _fresh_cache():
    embeddings.clear_cache()
    yield
    embeddings.clear_cache()


@pytest.fixture
def shop(db):
    product_class = headphones_class()
    quiet = headphones(product_class, title="Quietwave Pro", description="<p>Over-ear.</p>")
    wired = headphones(product_class, title="Studio Wire", wireless=False, noise_cancelling=False)
    kettle = create_product(title="Steel kettle 1.7 l", price=30, num_in_stock=3)
    return {"quiet": quiet, "wired": wired, "kettle": kettle}


@pytest.mark.django_db
def test_product_text_has_title_class_categories_facts_and_description_start(shop):
    quiet = shop["quiet"]
    ProductCategoryFactory(product=quiet, category=CategoryFactory(name="Audio"))
    quiet.description = "<p>Over-ear headphones. " + "Very long text. " * 100 + "</p>"
    quiet.save()
    text = embeddings.product_text(quiet)
    lines = text.splitlines()
    assert lines[:3] == ["Quietwave Pro", "Headphones", "Audio"]
    assert "Battery life: 30 hours" in lines
    assert "Wireless: yes" in lines
    assert lines[-1].startswith("Over-ear headphones. Very long text.")
    assert "<p>" not in text
    assert len(lines[-1]) <= embeddings.DESCRIPTION_CHARS


@pytest.mark.django_db
def test_refreshing_reads_the_catalogue_in_a_few_queries_and_the_same_texts(
    shop, embedder, django_assert_max_num_queries
):
    """The batch read (prefetched attributes and categories) gives each product exactly the
    text that reading it alone gives, so stored fingerprints stay valid; and the number of
    queries does not grow with the number of products."""
    audio = CategoryFactory(name="Audio")
    for product in shop.values():
        ProductCategoryFactory(product=product, category=audio)
    # Nested categories: their "A > B > C" paths are read for all products at once.
    from oscar.apps.catalogue.categories import create_from_breadcrumbs

    over_ear = create_from_breadcrumbs("Electronics > Headphones > Over-ear")
    ProductCategoryFactory(product=shop["quiet"], category=over_ear)
    ProductCategoryFactory(product=shop["wired"], category=over_ear.get_parent())
    product_class = shop["quiet"].get_product_class()
    for n in range(12):
        headphones(product_class, title=f"Model {n}")
    alone = {}
    for product in Product.objects.all():
        alone[product.pk] = embeddings.product_text(product)
    counting = Counting(embedder)
    assert "Electronics > Headphones > Over-ear" in alone[shop["quiet"].pk]
    with django_assert_max_num_queries(13):  # one of them: every category's ancestors
        assert embeddings.refresh_vectors(embedder=counting) == 15
    assert sorted(counting.texts) == sorted(alone.values())


@pytest.mark.django_db
def test_texts_read_as_rows_are_those_each_product_gives_alone(shop):
    """product_texts (plain rows) against product_text (model instances), byte for byte, for
    every kind of attribute value, a hidden category, and variants that inherit, override
    or blank their parent's title, description and values."""
    import datetime as dt

    from oscar.test.factories import (
        AttributeOptionFactory,
        AttributeOptionGroupFactory,
        ProductAttributeFactory,
        ProductFactory,
    )

    ProductAttribute = get_model("catalogue", "ProductAttribute")
    ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
    quiet = shop["quiet"]
    product_class = quiet.get_product_class()
    colours = AttributeOptionGroupFactory(name="Colours")
    black, white = (AttributeOptionFactory(group=colours, option=o) for o in ("Black", "White"))
    for code, name, kind in [
        ("colour", "Colour", ProductAttribute.OPTION),
        ("colours", "Colours", ProductAttribute.MULTI_OPTION),
        ("care", "Care", ProductAttribute.RICHTEXT),
        ("released", "Released", ProductAttribute.DATE),
        ("restocked", "Restocked", ProductAttribute.DATETIME),
        ("manual", "Manual", ProductAttribute.FILE),
    ]:
        ProductAttributeFactory(
            product_class=product_class,
            code=code,
            name=name,
            type=kind,
            option_group=colours if "option" in kind else None,
        )
    quiet.attr.colour = black
    quiet.attr.colours = [white, black]
    quiet.attr.care = "<p>Wipe <b>dry</b>.</p>"
    quiet.attr.released = dt.date(2026, 3, 1)
    quiet.attr.restocked = dt.datetime(2026, 5, 2, 9, 30, tzinfo=dt.UTC)
    quiet.structure = Product.PARENT
    quiet.save()
    from oscar.apps.catalogue.categories import create_from_breadcrumbs

    audio = create_from_breadcrumbs("Electronics > Audio")
    hidden = CategoryFactory(name="Hidden", is_public=False)
    for category in (audio, hidden):
        ProductCategoryFactory(product=quiet, category=category)
    ProductCategoryFactory(product=shop["kettle"], category=audio.get_parent())
    plain = ProductFactory(structure=Product.CHILD, parent=quiet, product_class=None, title="")
    own = ProductFactory(
        structure=Product.CHILD,
        parent=quiet,
        product_class=None,
        title="Quietwave Pro, white",
        description="<p>The white one.</p>",
    )
    own.attr.battery_life_hours = 40
    own.attr.colours = [white]
    own.attr.save()
    material = ProductAttribute.objects.get(product_class=product_class, code="material")
    ProductAttributeValue.objects.create(product=own, attribute=material, value_text="")

    ids = [product.pk for product in Product.objects.all()]
    alone = {product.pk: embeddings.product_text(product) for product in Product.objects.all()}
    assert embeddings.product_texts(ids) == alone
    assert "Electronics > Audio" in alone[quiet.pk] and "Hidden" not in alone[quiet.pk]
    lines = alone[own.pk].splitlines()
    assert lines[:3] == ["Quietwave Pro, white", "Headphones", "Electronics > Audio"]
    assert "Battery life: 40 hours" in lines and "Material: aluminium" in lines
    assert "Colours: White" in lines and "Care: Wipe dry." in lines
    # Options in their own order, whatever order the shop gave them in.
    assert "Colours: Black, White" in alone[quiet.pk].splitlines()
    assert lines[-1] == "The white one."
    assert alone[plain.pk].splitlines()[0] == "Quietwave Pro"
    assert alone[plain.pk].splitlines()[-1] == "Over-ear."
    assert embeddings.product_texts([]) == {}


@pytest.mark.django_db
def test_unchanged_products_are_not_embedded_again(shop, embedder):
    counting = Counting(embedder)
    assert embeddings.refresh_vectors(embedder=counting) == 3
    assert ProductVector.objects.count() == 3
    stored = ProductVector.objects.get(product=shop["quiet"])
    assert stored.dimension == 384
    vector = np.frombuffer(bytes(stored.vector), dtype=np.float32)
    assert vector.shape == (384,) and abs(float(np.linalg.norm(vector)) - 1) < 1e-4

    counting.texts.clear()
    assert embeddings.refresh_vectors(embedder=counting) == 0
    assert counting.texts == []

    shop["wired"].attr.battery_life_hours = 12
    shop["wired"].attr.save()
    assert embeddings.refresh_vectors(embedder=counting) == 1
    assert len(counting.texts) == 1 and "Battery life: 12 hours" in counting.texts[0]
    assert ProductVector.objects.get(product=shop["wired"]).fingerprint != stored.fingerprint


@pytest.mark.django_db
def test_only_the_products_asked_for_are_refreshed(shop, embedder):
    counting = Counting(embedder)
    assert embeddings.refresh_vectors([shop["kettle"].pk], embedder=counting) == 1
    assert list(ProductVector.objects.values_list("product_id", flat=True)) == [shop["kettle"].pk]


@pytest.mark.django_db
def test_a_new_embedding_model_embeds_everything_again(shop, embedder):
    embeddings.refresh_vectors(embedder=embedder)
    renamed = Counting(embedder)
    renamed.name = "another-model"
    assert embeddings.refresh_vectors(embedder=renamed) == 3


@pytest.mark.django_db
def test_the_matrix_is_cached_and_reloaded_when_vectors_change(
    shop, embedder, django_assert_num_queries
):
    embeddings.refresh_vectors([shop["quiet"].pk, shop["wired"].pk], embedder=embedder)
    ids, matrix = embeddings.vector_matrix()
    assert list(ids) == sorted([shop["quiet"].pk, shop["wired"].pk])
    assert ids.dtype == np.int64 and matrix.dtype == np.float32 and matrix.shape == (2, 384)
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1, atol=1e-5)

    with django_assert_num_queries(0):  # asked the table a moment ago
        again_ids, again = embeddings.vector_matrix()
    assert again is matrix
    embeddings._checked_at -= embeddings.RECHECK_SECONDS
    with django_assert_num_queries(1):  # only the "has anything changed" question
        again_ids, again = embeddings.vector_matrix()
    assert again is matrix

    embeddings.refresh_vectors([shop["kettle"].pk], embedder=embedder)
    ids, matrix = embeddings.vector_matrix()
    assert shop["kettle"].pk in ids and matrix.shape == (3, 384)

    shop["kettle"].delete()
    ids, matrix = embeddings.vector_matrix()
    assert shop["kettle"].pk not in ids and matrix.shape == (2, 384)


@pytest.mark.django_db
def test_vectors_written_by_another_process_are_seen_after_the_recheck_interval(
    shop, embedder, monkeypatch
):
    embeddings.refresh_vectors([shop["quiet"].pk], embedder=embedder)
    ids, _ = embeddings.vector_matrix()
    assert list(ids) == [shop["quiet"].pk]
    # Another process (a worker) embeds a product: no signal reaches this one.
    clock = [1000.0]
    monkeypatch.setattr(embeddings.time, "monotonic", lambda: clock[0])
    embeddings._checked_at = clock[0]
    with monkeypatch.context() as patched:
        patched.setattr(embeddings, "mark_changed", lambda **kwargs: None)
        embeddings.refresh_vectors([shop["wired"].pk], embedder=embedder)
    clock[0] += embeddings.RECHECK_SECONDS / 2
    assert list(embeddings.vector_matrix()[0]) == [shop["quiet"].pk]
    clock[0] += embeddings.RECHECK_SECONDS
    assert sorted(embeddings.vector_matrix()[0]) == sorted([shop["quiet"].pk, shop["wired"].pk])


@pytest.mark.django_db
def test_nearest_ranks_by_meaning_and_leaves_out_excluded(shop, embedder):
    embeddings.refresh_vectors(embedder=embedder)
    query = embedder.embed(["wireless noise cancelling headphones"])[0]
    found = embeddings.nearest(query, 3)
    # Both headphones before the kettle; "wireless: no" reads much like "wireless: yes" to
    # an embedding, which is why the finder checks attributes itself.
    assert {pk for pk, _ in found[:2]} == {shop["quiet"].pk, shop["wired"].pk}
    assert found[-1][0] == shop["kettle"].pk
    assert found[0][1] > found[1][1] > found[2][1]

    without = embeddings.nearest(query, 3, exclude=[shop["quiet"].pk, 10**9])
    assert [pk for pk, _ in without] == [shop["wired"].pk, shop["kettle"].pk]
    assert len(embeddings.nearest(query, 50)) == 3
    assert embeddings.nearest(query, 5, among=[shop["kettle"].pk]) == [
        (shop["kettle"].pk, pytest.approx(found[-1][1], abs=1e-5))
    ]
    assert embeddings.nearest(query, 0) == []
    assert embeddings.nearest(np.zeros(384), 3) == []


@pytest.mark.django_db
def test_nearest_without_vectors_finds_nothing():
    assert embeddings.nearest(np.ones(384), 5) == []


def test_large_matrices_rank_on_a_projection_then_exactly():
    """Above PROJECTION_FROM_ROWS the search scores candidates from a projection of the
    vectors: on vectors shaped like real embeddings (a few strong directions) it finds the
    same best products as the full scan."""
    rng = np.random.default_rng(1)
    n, d = embeddings.PROJECTION_FROM_ROWS + 5_000, 384
    basis = rng.standard_normal((40, d)).astype(np.float32)
    matrix = rng.standard_normal((n, 40)).astype(np.float32) @ basis
    matrix += 0.3 * rng.standard_normal((n, d)).astype(np.float32)
    matrix = embeddings._normalised(matrix)
    ids = np.arange(10, 10 + n, dtype=np.int64)
    index = embeddings._Index(("test",), ids, matrix)
    hits = 0
    for row in rng.choice(n, size=20, replace=False):
        query = matrix[row] + 0.2 * rng.standard_normal(d).astype(np.float32)
        exact = embeddings.search(ids, matrix, query, 10, exclude=[ids[row]])
        fast = embeddings.search(ids, matrix, query, 10, exclude=[ids[row]], index=index)
        assert ids[row] not in [pk for pk, _ in fast]
        hits += len({pk for pk, _ in exact} & {pk for pk, _ in fast})
        assert [score for _, score in fast] == sorted((s for _, s in fast), reverse=True)
    assert index.projection is not None
    assert hits / 200 >= 0.95


@pytest.mark.django_db
def test_a_changed_product_patches_the_matrix_in_place(shop, embedder, monkeypatch):
    embeddings.refresh_vectors([shop["quiet"].pk, shop["wired"].pk], embedder=embedder)
    embeddings.vector_matrix()
    loads = []
    real_load = embeddings._load
    monkeypatch.setattr(embeddings, "_load", lambda key: loads.append(key) or real_load(key))

    shop["wired"].attr.battery_life_hours = 12
    shop["wired"].attr.save()
    embeddings.refresh_vectors([shop["wired"].pk, shop["kettle"].pk], embedder=embedder)
    ids, matrix = embeddings.vector_matrix()
    assert loads == []  # patched: only the rows written since were read
    embeddings.clear_cache()
    full_ids, full = embeddings.vector_matrix()
    assert list(ids) == list(full_ids) and np.allclose(matrix, full, atol=1e-6)
    assert len(loads) == 1

    shop["kettle"].delete()  # a deletion can't be patched: the matrix is read again
    ids, _ = embeddings.vector_matrix()
    assert shop["kettle"].pk not in ids and len(loads) == 2
