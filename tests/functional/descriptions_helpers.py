"""Products with attributes, made the Oscar way, for the descriptions tests."""

from oscar.core.loading import get_model
from oscar.test.factories import (
    ProductAttributeFactory,
    ProductClassFactory,
    create_product,
)

ProductAttribute = get_model("catalogue", "ProductAttribute")


def headphones_class():
    product_class = ProductClassFactory(name="Headphones", slug="headphones")
    for code, name, kind in [
        ("battery_life_hours", "Battery life (hours)", ProductAttribute.INTEGER),
        ("weight_g", "Weight (g)", ProductAttribute.FLOAT),
        ("wireless", "Wireless", ProductAttribute.BOOLEAN),
        ("noise_cancelling", "Noise cancelling", ProductAttribute.BOOLEAN),
        ("material", "Material", ProductAttribute.TEXT),
    ]:
        ProductAttributeFactory(product_class=product_class, code=code, name=name, type=kind)
    return product_class


def headphones(product_class, title="Quietwave Pro", description="", **attributes):
    values = {
        "battery_life_hours": 30,
        "weight_g": 250.0,
        "wireless": True,
        "noise_cancelling": True,
        "material": "aluminium",
    } | attributes
    product = create_product(
        product_class=product_class.name, title=title, price=129, num_in_stock=5
    )
    for code, value in values.items():
        setattr(product.attr, code, value)
    product.description = description
    product.save()
    return product
