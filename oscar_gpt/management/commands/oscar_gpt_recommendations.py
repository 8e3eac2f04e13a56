from django.core.management.base import BaseCommand, CommandError

from oscar_gpt.recommendations import service


class Command(BaseCommand):
    help = (
        "Recommendations: --rebuild refits every model and rewrites every list (with a "
        "progress bar); --update applies the events since the last build; without either, "
        "shows the last build."
    )

    def add_arguments(self, parser):
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--rebuild", action="store_true", help="Refit and rewrite all.")
        action.add_argument("--update", action="store_true", help="Apply new events only.")
        parser.add_argument(
            "--queue", action="store_true", help="Hand the work to the Celery workers."
        )
        parser.add_argument(
            "--recheck-stock",
            action="store_true",
            help="Rebuild: ask Oscar's strategy about every product, not only changed ones.",
        )
        parser.add_argument(
            "--no-embed",
            action="store_true",
            help="Rebuild: don't embed the products that have no vector yet (content "
            "similarity then knows only the products that have one).",
        )

    def handle(self, *args, **options):
        if options["rebuild"]:
            if options["queue"]:
                from oscar_gpt.tasks import rebuild_recommendations

                rebuild_recommendations.delay()
                self.stdout.write("Rebuild queued.")
                return
            if not options["no_embed"]:
                self.stdout.write("Embedding the products that have no vector yet...")
                self.stdout.write(f"  {service.embed_missing()} embedded.")
            self._rebuild(options["recheck_stock"])
        elif options["update"]:
            if options["queue"]:
                from oscar_gpt.tasks import update_recommendations

                update_recommendations.delay()
                self.stdout.write("Update queued.")
                return
            result = service.update()
            self.stdout.write(", ".join(f"{key}: {value}" for key, value in result.items()))
        else:
            self._status()

    def _rebuild(self, recheck_stock: bool):
        def progress(stage, done, total):
            bar = "#" * (30 * done // total)
            self.stdout.write(f"\r[{bar:<30}] {done}/{total} {stage:<16}", ending="")
            self.stdout.flush()

        try:
            build = service.rebuild(progress=progress, recheck_stock=recheck_stock)
        except service.RecommendationError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write("")
        stats = build.stats
        self.stdout.write(
            f"Build #{build.pk}: {stats.get('products', 0)} product lists, "
            f"{stats.get('shoppers', 0)} shopper lists from {stats.get('events', 0)} events."
        )
        seconds = stats.get("seconds", {})
        if seconds:
            self.stdout.write(
                "  " + ", ".join(f"{stage} {value:.1f}s" for stage, value in seconds.items())
            )

    def _status(self):
        build = service.latest_build()
        if build is None:
            self.stdout.write("No recommendations built yet: run with --rebuild.")
            return
        self.stdout.write(
            f"Build #{build.pk} finished {build.finished_at:%Y-%m-%d %H:%M}; "
            f"{build.updates} update(s) since"
            + (f", the last {build.updated_at:%Y-%m-%d %H:%M}." if build.updated_at else ".")
        )
        for key, value in build.stats.items():
            self.stdout.write(f"  {key}: {value}")
