"""Who may see which products: staff see all, Oscar partner users only what they stock."""

from oscar.core.loading import get_class, get_model

Product = get_model("catalogue", "Product")


def visible_products(user):
    partner_product_visibility_q = get_class(
        "dashboard.catalogue.utils", "partner_product_visibility_q"
    )
    products = Product.objects.all()
    if not user.is_staff:
        products = products.filter(partner_product_visibility_q(user)).distinct()
    return products
