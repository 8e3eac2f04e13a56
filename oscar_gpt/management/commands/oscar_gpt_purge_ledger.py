from django.core.management.base import BaseCommand, CommandError

from oscar_gpt import spend


class Command(BaseCommand):
    help = (
        "Delete ledger entries older than --days days, in batches. Without --days, apply "
        'OSCAR_GPT["LEDGER_RETENTION_DAYS"] (default 365; 0 keeps the ledger forever).'
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Keep this many days of ledger. Default: the retention setting.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=spend.PURGE_BATCH_SIZE,
            help="Rows deleted per statement.",
        )

    def handle(self, *args, days=None, batch_size=spend.PURGE_BATCH_SIZE, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if days is None:
            days = spend.retention_days()
            if not days:
                self.stdout.write(f"LEDGER_RETENTION_DAYS is {days!r}: the ledger is kept forever.")
                return
        elif days < 1:
            raise CommandError("--days must be at least 1.")
        deleted = spend.purge_older_than(int(days), batch_size=batch_size)
        self.stdout.write(
            self.style.SUCCESS(f"Deleted {deleted} ledger entries older than {days} days.")
        )
