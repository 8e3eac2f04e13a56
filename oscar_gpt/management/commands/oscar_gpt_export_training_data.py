"""``manage.py oscar_gpt_export_training_data``: reviewed copy and answers as fine-tuning data."""

import json

from django.core.management.base import BaseCommand, CommandError

from oscar_gpt.finetune import export as exporting
from oscar_gpt.finetune import service
from oscar_gpt.models import DescriptionField, TrainingExport


class Command(BaseCommand):
    help = (
        "Export training data: product facts -> approved or human-written copy, and question + "
        "evidence -> staff or published answers. Never unreviewed drafts; personal data "
        "scrubbed; duplicates removed; split into train and validation by product. Writes "
        "OpenAI chat JSONL and the local trainer's JSONL, and prints a summary."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--kind",
            action="append",
            choices=list(exporting.KINDS),
            help="description or answer (repeatable; default: both).",
        )
        parser.add_argument(
            "--field",
            action="append",
            choices=[f.value for f in DescriptionField],
            help="Product fields to learn (repeatable; default: all three).",
        )
        parser.add_argument(
            "--validation-share", type=float, help="Share of products held out for validation."
        )
        parser.add_argument("--seed", type=int, help="Seeds the split by product.")
        parser.add_argument(
            "--output", metavar="DIR", help="Write here instead of under FINETUNE_DIR."
        )
        parser.add_argument("--json", action="store_true", help="Print the summary as JSON.")
        parser.add_argument(
            "--queue", action="store_true", help="Queue the export for a worker and return."
        )

    def handle(self, *args, **options):
        share = options["validation_share"]
        if share is not None and not 0 <= share < 1:
            raise CommandError("--validation-share must be at least 0 and below 1.")
        export_options = {
            key: value
            for key, value in {
                "kinds": options["kind"],
                "fields": options["field"],
                "validation_share": share,
                "seed": options["seed"],
            }.items()
            if value is not None
        }
        try:
            export = service.start_export(
                enqueue=options["queue"], directory=options["output"], **export_options
            )
        except service.FineTuneError as exc:
            raise CommandError(str(exc)) from exc
        if options["queue"]:
            self.stdout.write(f"Queued export #{export.pk}.")
            return
        export = service.run_export(export.pk)
        if export.status != TrainingExport.Status.DONE:
            raise CommandError(f"Export #{export.pk} failed: {export.error}")
        if options["json"]:
            self.stdout.write(json.dumps(export.summary, indent=2))
            return
        self.print_summary(export)

    def print_summary(self, export):
        summary = export.summary
        self.stdout.write(self.style.SUCCESS(f"Export #{export.pk} in {export.directory}"))
        for split in ("train", "validation"):
            counts = summary["counts"][split]
            self.stdout.write(
                f"  {split:<10} {counts['total']:>5} examples ({counts['description']} copy, "
                f"{counts['answer']} answers) from {counts['products']} products, "
                f"{counts['tokens']} tokens"
            )
        self.stdout.write(f"  tokens counted with {summary['tokens']['tokenizer']}")
        for reason, count in summary["left_out"].items():
            self.stdout.write(f"  left out: {reason.replace('_', ' ')}: {count}")
        if summary["scrubbed"]:
            found = ", ".join(f"{kind} {count}" for kind, count in summary["scrubbed"].items())
            self.stdout.write(f"  personal data scrubbed: {found}")
        estimate = summary["hosted_estimate"]
        cost = f"${estimate['cost_usd']}" if estimate["cost_usd"] is not None else "no price"
        self.stdout.write(
            f"  hosted fine-tune of {estimate['model']}: {estimate['epochs']} epochs, "
            f"{estimate['trained_tokens']} trained tokens, about {cost}"
        )
