"""``manage.py oscar_gpt_finetune``: fine-tune the local model here, or a hosted one."""

import time

from django.core.management.base import BaseCommand, CommandError

from oscar_gpt.finetune import registry, service
from oscar_gpt.finetune.trainer import TrainingParams
from oscar_gpt.llm.errors import BackendError, ConfigurationError
from oscar_gpt.models import FineTuneJob, TrainingExport


class Command(BaseCommand):
    help = (
        "Fine-tune on an export of training data (the newest, unless --export names one; "
        "--fresh-export makes one first). Local: transformers' Trainer in this process with a "
        "progress bar, then validation loss and generated copy before and after, side by "
        "side; the model folder becomes a backend alias. --provider openai: upload and create "
        "a hosted fine-tuning job (--wait follows it). --queue hands the work to a worker."
    )

    def add_arguments(self, parser):
        parser.add_argument("--provider", choices=["local", "openai"], default="local")
        parser.add_argument("--export", type=int, metavar="ID", help="The export to train on.")
        parser.add_argument(
            "--fresh-export", action="store_true", help="Export the training data first."
        )
        parser.add_argument("--backend", help="The backend alias to fine-tune (or to call).")
        parser.add_argument("--epochs", help="Epochs (hosted: a number or auto).")
        parser.add_argument("--queue", action="store_true", help="Queue it for a worker.")
        local = parser.add_argument_group("local")
        local.add_argument("--max-steps", type=int)
        local.add_argument("--learning-rate", type=float)
        local.add_argument("--batch-size", type=int)
        local.add_argument("--gradient-accumulation", type=int)
        local.add_argument("--max-length", type=int, help="Tokens per example.")
        method = local.add_mutually_exclusive_group()
        method.add_argument("--lora", dest="lora", action="store_true", default=None)
        method.add_argument("--full", dest="lora", action="store_false")
        local.add_argument(
            "--max-minutes", type=float, help="Stop training in time to finish by then."
        )
        local.add_argument("--save-steps", type=int, help="Checkpoint every N steps.")
        local.add_argument(
            "--eval-products", type=int, help="Validation products to compare copy on (0: none)."
        )
        local.add_argument("--resume", type=int, metavar="JOB", help="Resume a local job.")
        hosted = parser.add_argument_group("hosted")
        hosted.add_argument("--model", help="The hosted model to fine-tune.")
        hosted.add_argument("--suffix")
        hosted.add_argument("--wait", action="store_true", help="Poll until the job finishes.")
        hosted.add_argument("--poll-interval", type=float, default=30.0)
        jobs = parser.add_argument_group("jobs")
        jobs.add_argument("--status", type=int, metavar="JOB", help="Show (and poll) a job.")
        jobs.add_argument("--cancel", type=int, metavar="JOB", help="Cancel a job.")

    def handle(self, *args, **options):
        try:
            if options["status"]:
                return self.show(self.job(options["status"]), poll=True)
            if options["cancel"]:
                job = service.cancel(self.job(options["cancel"]))
                self.stdout.write(f"Job #{job.pk}: {job.get_status_display()}")
                return
            if options["resume"]:
                return self.run_local(self.job(options["resume"]))
            export = self.export(options)
            if options["provider"] == "openai":
                return self.hosted(export, options)
            params = TrainingParams.from_settings(
                base=options["backend"],
                epochs=float(options["epochs"]) if options["epochs"] else None,
                max_steps=options["max_steps"],
                learning_rate=options["learning_rate"],
                batch_size=options["batch_size"],
                gradient_accumulation=options["gradient_accumulation"],
                max_length=options["max_length"],
                lora=options["lora"],
                max_minutes=options["max_minutes"],
                save_steps=options["save_steps"],
                eval_products=options["eval_products"],
            )
            job = service.start_local(export, params, enqueue=options["queue"])
        except (service.FineTuneError, BackendError, ConfigurationError) as exc:
            raise CommandError(str(exc)) from exc
        if options["queue"]:
            self.stdout.write(f"Queued local fine-tuning job #{job.pk}.")
            return
        self.run_local(job)

    # -- helpers ---------------------------------------------------------------------------
    def job(self, pk: int) -> FineTuneJob:
        job = FineTuneJob.objects.filter(pk=pk).first()
        if job is None:
            raise CommandError(f"No fine-tuning job #{pk}.")
        return job

    def export(self, options) -> TrainingExport:
        if options["fresh_export"]:
            export = service.run_export(service.start_export(enqueue=False).pk)
            self.stdout.write(f"Exported #{export.pk} to {export.directory}")
            return export
        if options["export"]:
            export = TrainingExport.objects.filter(pk=options["export"]).first()
            if export is None:
                raise CommandError(f"No export #{options['export']}.")
            return export
        export = service.latest_export()
        if export is None:
            raise CommandError(
                "No training data exported yet: run oscar_gpt_export_training_data, or pass "
                "--fresh-export."
            )
        return export

    def run_local(self, job: FineTuneJob) -> None:
        if job.provider != FineTuneJob.Provider.LOCAL:
            raise CommandError(f"Job #{job.pk} is not a local fine-tune.")
        self.stdout.write(f"Fine-tuning {job.base_model} (job #{job.pk}) ...")
        job = service.run_local(job.pk, progress_bar=True)
        self.show(job)

    def hosted(self, export: TrainingExport, options) -> None:
        job = service.start_hosted(
            export,
            backend=options["backend"],
            model=options["model"],
            epochs=options["epochs"],
            suffix=options["suffix"],
            enqueue=options["queue"],
        )
        estimate = job.params["estimate"]
        self.stdout.write(
            f"Hosted fine-tune of {job.base_model} (job #{job.pk}): {estimate['trained_tokens']} "
            f"trained tokens, estimated ${estimate['cost_usd']}"
        )
        if options["queue"]:
            self.stdout.write("Queued for a worker to upload and create.")
            return
        job = service.submit_hosted(job.pk)
        while options["wait"] and job.job_id and not job.finished:
            time.sleep(options["poll_interval"])
            job = service.hosted.poll(job)
            self.stdout.write(f"  {job.get_status_display()}")
        self.show(job)

    def show(self, job: FineTuneJob, *, poll: bool = False) -> None:
        if poll and job.provider == FineTuneJob.Provider.OPENAI:
            job = service.hosted.poll(job)
        style = self.style.SUCCESS if job.status == "succeeded" else self.style.WARNING
        self.stdout.write(style(f"Job #{job.pk}: {job.get_status_display()}"))
        if job.error:
            self.stdout.write(f"  error: {job.error}")
        if job.job_id:
            self.stdout.write(f"  provider's job: {job.job_id}")
        metrics = job.metrics or {}
        if "steps" in metrics:
            self.stdout.write(
                f"  {metrics['method']} fine-tuning on {metrics['device']}: {metrics['steps']} "
                f"steps, {metrics['epochs']} epochs, {metrics['seconds']} s"
                + (f" (stopped: {metrics['stopped']})" if metrics.get("stopped") else "")
            )
        if metrics:
            for line in service.comparison_table(metrics):
                self.stdout.write(f"  {line}")
        row = getattr(job, "fine_tuned_model_row", None)
        if row is not None:
            self.stdout.write(f"  backend alias: {row.alias} (choose it in the dashboard), or:")
            self.stdout.write(f"  OSCAR_GPT['BACKENDS'] += {registry.settings_snippet(row)}")
