"""A customer's data held by django-oscar-gpt: export it, or anonymise it.

    python manage.py oscar_gpt_customer_data ann@example.com            # JSON to stdout
    python manage.py oscar_gpt_customer_data ann@example.com --anonymise

Deleting the customer's account does the same as ``--anonymise`` on its own (a signal):
their questions stay in the shop's FAQ without anything of theirs, and ledger rows lose the
link to them.
"""

import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from oscar_gpt.models import LedgerEntry, Question
from oscar_gpt.qa.service import anonymise_customer, export_customer


class Command(BaseCommand):
    help = "Export (default) or anonymise one customer's questions and ledger references."

    def add_arguments(self, parser):
        parser.add_argument("email", help="The customer's e-mail address.")
        parser.add_argument(
            "--anonymise", action="store_true", help="Remove the customer from their rows."
        )

    def handle(self, *args, email, anonymise, **options):
        users = list(get_user_model().objects.filter(email__iexact=email.strip()))
        if not users:
            raise CommandError(f"No customer has the e-mail address {email!r}.")
        if anonymise:
            with transaction.atomic():
                questions = sum(anonymise_customer(user) for user in users)
                ledger = LedgerEntry.objects.filter(user__in=users).update(user=None)
                # Questions asked without an account but with this address for the answer.
                Question.objects.filter(email__iexact=email.strip()).update(email="")
            self.stdout.write(
                f"Anonymised {questions} question(s) and {ledger} ledger row(s) of {email}."
            )
            return
        data = {
            "email": email,
            "questions": [item for user in users for item in export_customer(user)],
            "model_calls": LedgerEntry.objects.filter(user__in=users).count(),
        }
        self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))
