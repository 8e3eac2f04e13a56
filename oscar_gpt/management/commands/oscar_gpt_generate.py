from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from oscar.core.loading import get_model

from oscar_gpt.descriptions import service
from oscar_gpt.descriptions.prompts import LENGTHS, TONES, GenerationParams
from oscar_gpt.models import DescriptionField

Category = get_model("catalogue", "Category")


class Command(BaseCommand):
    help = (
        "Generate product copy as drafts for review. Runs in this process with a progress bar; "
        "--queue hands the job to the Celery workers instead."
    )

    def add_arguments(self, parser):
        target = parser.add_argument_group("which products")
        target.add_argument("--product", type=int, action="append", default=[], metavar="ID")
        target.add_argument(
            "--category",
            action="append",
            default=[],
            metavar="SLUG",
            help="A category and its subcategories (repeatable).",
        )
        target.add_argument("--all", action="store_true", help="The whole catalogue.")
        parser.add_argument(
            "--only-empty", action="store_true", help="Only fields that are empty now."
        )
        parser.add_argument(
            "--field",
            action="append",
            metavar="FIELD",
            choices=[f.value for f in DescriptionField],
            help="description (default), meta_title, meta_description.",
        )
        parser.add_argument("--language", default="")
        parser.add_argument("--tone", default="friendly", help=f"{', '.join(TONES)} or free text")
        parser.add_argument("--length", default="medium", choices=list(LENGTHS))
        parser.add_argument(
            "--format", default="paragraph", choices=["paragraph", "bullets", "both"]
        )
        parser.add_argument("--keywords", default="", help="Comma-separated SEO keywords.")
        parser.add_argument("--variants", type=int, default=1)
        parser.add_argument(
            "--queue", action="store_true", help="Queue a job for the workers and return at once."
        )

    def handle(self, *args, **options):
        params = GenerationParams(
            fields=options["field"] or [DescriptionField.DESCRIPTION.value],
            tone=options["tone"],
            length=options["length"],
            language=options["language"],
            keywords=options["keywords"],
            format=options["format"],
            variants=options["variants"],
            only_empty=options["only_empty"],
        )
        try:
            params.validate()
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            ) from exc
        ids = self._product_ids(options)
        try:
            job = service.start_job(ids, params, enqueue=options["queue"])
        except service.DescriptionError as exc:
            raise CommandError(str(exc)) from exc
        if options["queue"]:
            self.stdout.write(f"Queued job #{job.pk} for {len(ids)} product(s).")
            return
        self._run_here(job, ids)

    def _product_ids(self, options) -> list[int]:
        categories = []
        for slug in options["category"]:
            category = Category.objects.filter(slug=slug).first()
            if category is None:
                raise CommandError(f"Unknown category slug: {slug}")
            categories.append(category)
        if not (options["product"] or categories or options["all"]):
            raise CommandError("Name products with --product, --category or --all.")
        try:
            return service.select_products(
                product_ids=options["product"], categories=categories, everything=options["all"]
            )
        except service.DescriptionError as exc:
            raise CommandError(str(exc)) from exc

    def _run_here(self, job, ids):

        total = len(ids)
        size = max(1, service.app_settings.DESCRIPTIONS_BATCH_SIZE)
        for start in range(0, total, size):
            service.run_job_chunk(job.pk, ids[start : start + size])
            progress = service.job_progress(job)
            finished = progress["done"] + progress["skipped"] + progress["failed"]
            bar = "#" * (30 * finished // total)
            self.stdout.write(f"\r[{bar:<30}] {finished}/{total}", ending="")
            self.stdout.flush()
        progress = service.job_progress(job)
        self.stdout.write("")
        self.stdout.write(
            f"Job #{job.pk}: {progress['done']} done, {progress['skipped']} skipped, "
            f"{progress['failed']} failed; {progress['drafts']} draft(s), "
            f"{progress['flagged']} with unsupported claims."
        )
        for failure in progress["failures"]:
            self.stdout.write(
                self.style.WARNING(
                    f"  {failure['product_title']} (#{failure['product_id']}): {failure['reason']}"
                )
            )
