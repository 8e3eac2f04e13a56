from django.core.checks import run_checks
from django.core.management.base import BaseCommand, CommandError

from oscar_gpt.app_settings import app_settings
from oscar_gpt.checks import TAG
from oscar_gpt.diagnostics import probe_backend


class Command(BaseCommand):
    help = (
        "Run django-oscar-gpt's system checks, then one tiny completion per backend; "
        "print backend, model, device, tokens and latency. Exits non-zero when a backend fails."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--backend",
            action="append",
            dest="aliases",
            metavar="ALIAS",
            help="Only this backend (repeatable). Default: every backend.",
        )
        parser.add_argument(
            "--via-worker",
            action="store_true",
            help="Run the completion in a Celery worker, through the broker.",
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=600,
            help="Seconds to wait for a worker (with --via-worker).",
        )

    def handle(self, *args, aliases=None, via_worker=False, timeout=600, **options):
        errors = [m for m in run_checks(tags=[TAG]) if m.is_serious()]
        for message in run_checks(tags=[TAG]):
            style = self.style.ERROR if message.is_serious() else self.style.WARNING
            self.stdout.write(style(f"{message.id}: {message.msg}"))
            if message.hint:
                self.stdout.write(f"    HINT: {message.hint}")
        if errors:
            raise CommandError(f"{len(errors)} configuration error(s); see above.")

        aliases = aliases or list(app_settings.BACKENDS)
        unknown = [a for a in aliases if a not in app_settings.BACKENDS]
        if unknown:
            raise CommandError(
                f"Unknown backend(s): {', '.join(unknown)}. "
                f"Configured: {', '.join(app_settings.BACKENDS)}."
            )
        failed = []
        header = f"{'backend':<12} {'model':<36} {'device':<24} {'in':>5} {'out':>5} {'ms':>7}"
        self.stdout.write(header)
        for alias in aliases:
            if via_worker:
                from oscar_gpt.tasks import check_backend

                result = check_backend.delay(alias).get(timeout=timeout)
            else:
                result = probe_backend(alias).as_dict()
            line = (
                f"{result['backend']:<12} {result['model'][:36]:<36} {result['device'][:24]:<24} "
                f"{result['prompt_tokens']:>5} {result['completion_tokens']:>5} "
                f"{result['latency_ms']:>7}"
            )
            if result["ok"]:
                self.stdout.write(self.style.SUCCESS(line) + f"  {result['text'][:40]!r}")
            else:
                failed.append(alias)
                self.stdout.write(self.style.ERROR(line) + f"  FAILED: {result['error']}")
        if failed:
            raise CommandError(f"Backend(s) failed: {', '.join(failed)}.")
