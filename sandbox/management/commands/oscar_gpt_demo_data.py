"""``manage.py oscar_gpt_demo_data``: load the sandbox's demo catalogue, shoppers and orders."""

from django.core.management.base import BaseCommand
from django.db import transaction

from sandbox.demo.loader import (
    DEMO_SHOPPER_PASSWORD,
    DEMO_STAFF_EMAIL,
    DEMO_STAFF_PASSWORD,
    index_demo_products,
    load_demo_shop,
)


class Command(BaseCommand):
    help = (
        "Load the demo shop: an invented catalogue with stock, categories, reviews, a staff "
        "login and demo shoppers with product views, baskets and orders. Safe to run again: "
        "existing demo data is updated, nothing is duplicated."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            summary = load_demo_shop(stdout=self.stdout)
        # After the commit: a search index outside the database can't be rolled back.
        indexed = index_demo_products()

        self.stdout.write(self.style.SUCCESS("Demo shop loaded:"))
        width = max(len(key) for key in summary)
        for key, value in summary.items():
            self.stdout.write(f"  {key.replace('_', ' '):<{width}}  {value}")
        self.stdout.write(f"Search index: {indexed} products indexed")
        self.stdout.write("")
        self.stdout.write("Staff login (dashboard and admin):")
        self.stdout.write(f"  email:    {DEMO_STAFF_EMAIL}")
        self.stdout.write(f"  password: {DEMO_STAFF_PASSWORD}")
        self.stdout.write(f"Demo shoppers log in with the password {DEMO_SHOPPER_PASSWORD}.")
