"""Shopper-facing and bulk work go to queues of their own when the project says so."""

from django.test import override_settings

from oscar_gpt.tasks import route_task


def route(name):
    return route_task(name, (), {}, {})


def test_no_queues_configured_leaves_celery_defaults():
    assert route("oscar_gpt.answer_question") is None
    assert route("oscar_gpt.generate_descriptions") is None


@override_settings(OSCAR_GPT={"TASK_QUEUES": {"shopper": "gpt-shopper", "bulk": "gpt-bulk"}})
def test_shopper_and_bulk_work_are_separated():
    assert route("oscar_gpt.answer_question") == {"queue": "gpt-shopper"}
    assert route("oscar_gpt.check_backend") == {"queue": "gpt-shopper"}
    assert route("oscar_gpt.generate_descriptions") == {"queue": "gpt-bulk"}
    assert route("oscar_gpt.refresh_evidence") == {"queue": "gpt-bulk"}
    assert route("oscar_gpt.some_future_task") == {"queue": "gpt-bulk"}
    assert route("shop.send_newsletter") is None  # other apps' tasks are left alone


@override_settings(OSCAR_GPT={"TASK_QUEUES": {"shopper": "gpt-shopper", "bulk": "gpt-bulk"}})
def test_fine_tuning_goes_with_the_bulk_work_unless_it_has_a_queue():
    assert route("oscar_gpt.finetune_local") == {"queue": "gpt-bulk"}
    assert route("oscar_gpt.rebuild_recommendations") == {"queue": "gpt-bulk"}
    with override_settings(OSCAR_GPT={"TASK_QUEUES": {"bulk": "gpt-bulk", "finetune": "gpt-ft"}}):
        assert route("oscar_gpt.finetune_local") == {"queue": "gpt-ft"}
        assert route("oscar_gpt.export_training_data") == {"queue": "gpt-bulk"}


@override_settings(OSCAR_GPT={"TASK_QUEUES": {"shopper": "gpt-shopper"}})
def test_a_kind_without_a_queue_stays_on_the_default():
    assert route("oscar_gpt.generate_descriptions") is None
    assert route("oscar_gpt.answer_question") == {"queue": "gpt-shopper"}


def test_the_router_routes_real_sends():
    """Celery loads the router by its dotted path, as a project's settings name it."""
    from celery.app import routes as celery_routes

    from sandbox.celery import app

    routes = celery_routes.prepare(("oscar_gpt.tasks.route_task",))
    router = celery_routes.Router(routes, app.amqp.queues, create_missing=True, app=app)
    with override_settings(OSCAR_GPT={"TASK_QUEUES": {"shopper": "gpt-shopper"}}):
        options = router.route({}, "oscar_gpt.answer_question", (1,), {})
    assert options["queue"].name == "gpt-shopper"
