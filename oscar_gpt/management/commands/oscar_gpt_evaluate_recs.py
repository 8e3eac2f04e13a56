import json

from django.core.management.base import BaseCommand, CommandError

from oscar_gpt.app_settings import app_settings
from oscar_gpt.recommendations import evaluation, events


class Command(BaseCommand):
    help = (
        "Evaluate the recommendation models offline: leave-last-out on the shop's own orders "
        "(or a CSV of user,item,time[,kind] events), hit rate and NDCG at k for every model "
        "and the baselines (popularity, random, Oscar's hand-picked)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--events", metavar="CSV", help="user,item,time[,kind] rows.")
        parser.add_argument("--k", type=int, default=10)
        parser.add_argument("--json", action="store_true", help="Print JSON, not a table.")

    def handle(self, *args, **options):
        if options["events"]:
            try:
                read = events.read_events_csv(options["events"])
            except (OSError, ValueError, IndexError) as exc:
                raise CommandError(f"Can't read {options['events']}: {exc}") from exc
            scores = self._evaluate(
                read.events, options["k"], vectors=None, hand_picked=None, product_ids=()
            )
            source = f"{options['events']}: {len(read.events)} events"
        else:
            from oscar_gpt.recommendations.service import hand_picked, load_catalogue

            shop_events, _ = events.load_events(with_times=True)
            scores = self._evaluate(
                shop_events,
                options["k"],
                vectors=self._vectors(),
                hand_picked=hand_picked(),
                product_ids=load_catalogue().product_ids,
            )
            source = f"the shop's own orders ({len(shop_events)} events)"
        if options["json"]:
            self.stdout.write(json.dumps([score.as_dict() for score in scores], indent=2))
            return
        k = options["k"]
        self.stdout.write(f"Leave-last-out on {source}; {scores[0].shoppers} shoppers held out.")
        self.stdout.write(f"{'model':<32} {'hit@' + str(k):>8} {'ndcg@' + str(k):>8}  note")
        for score in scores:
            self.stdout.write(
                f"{score.model:<32} {score.hit_rate:>8.4f} {score.ndcg:>8.4f}  {score.note}"
            )

    def _evaluate(self, data, k, **kwargs):
        if not len(data):
            raise CommandError("No events to evaluate on.")
        scores = evaluation.evaluate(
            data,
            signal_weights=app_settings.RECOMMENDATIONS_SIGNAL_WEIGHTS,
            hybrid_weights=app_settings.RECOMMENDATIONS_HYBRID_WEIGHTS,
            als=app_settings.RECOMMENDATIONS_ALS,
            k=k,
            **kwargs,
        )
        if not scores or not scores[0].shoppers:
            raise CommandError("No shopper has two different products to hold one out.")
        return scores

    def _vectors(self):
        try:
            from oscar_gpt.recommendations.embeddings import vector_matrix

            ids, matrix = vector_matrix()
        except Exception:  # noqa: BLE001 - no embeddings installed or no vectors table
            return None
        return (ids, matrix) if len(ids) else None
