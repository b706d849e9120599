"""The Celery app keeps the reliable defaults: nothing lost on a worker crash, nothing run twice by a
redelivery, JSON only, bounded tasks, beat on the database scheduler."""

from channel_manager.celery import app


def test_tasks_are_acknowledged_late_and_requeued_if_the_worker_dies():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_only_json_is_accepted():
    assert app.conf.task_serializer == "json"
    assert app.conf.result_serializer == "json"
    assert list(app.conf.accept_content) == ["json"]


def test_tasks_are_time_limited_within_the_redelivery_window():
    soft, hard = app.conf.task_soft_time_limit, app.conf.task_time_limit
    visibility = app.conf.broker_transport_options["visibility_timeout"]
    assert (soft, hard, visibility) == (240, 300, 3600)
    assert soft < hard < visibility


def test_beat_reads_its_schedule_from_the_database():
    assert app.conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
    assert app.conf.timezone == "UTC"
