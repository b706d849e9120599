"""The web process's warm-up (channel_manager.warmup, run by channel_manager.wsgi before the first request)."""

import runpy
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.template import engines
from django.test.utils import CaptureQueriesContext

from channel_manager.warmup import request_machinery_load, templates_compile, warm_up, worker_warm_up
from listings.models import Product


def cached_loader():
    engine = engines["django"].engine
    (loader,) = engine.template_loaders
    return loader


def test_warm_up_compiles_every_project_template_without_touching_the_database():
    loader = cached_loader()
    loader.reset()
    project_templates = sorted(
        path.relative_to(Path(settings.BASE_DIR) / "templates").as_posix()
        for path in (Path(settings.BASE_DIR) / "templates").rglob("*.html")
    )
    # no django_db mark: any database access raises (a --preload master must not open a connection its
    # forked workers would share)
    seconds = warm_up()
    assert seconds > 0
    cached = {key.split("-", 1)[0] for key in loader.get_template_cache}
    assert set(project_templates) <= cached
    assert "sync/sync_dashboard.html" in cached


def test_request_machinery_load_leaves_nothing_for_the_first_request_to_import(monkeypatch):
    import sys

    from django.utils import formats

    lazy = [
        "django.template.context_processors",
        "django.contrib.auth.context_processors",
        "django.contrib.messages.context_processors",
        "django.contrib.messages.storage.fallback",
        "django.conf.locale.en.formats",
    ]
    for name in lazy:
        monkeypatch.delitem(sys.modules, name, raising=False)
    for engine in engines.all():
        engine.engine.__dict__.pop("template_context_processors", None)  # its cached property
    formats.reset_format_cache()
    imported = request_machinery_load()
    assert set(lazy) <= set(imported)
    assert request_machinery_load() == []


def test_templates_compile_counts_the_project_templates_only():
    count = templates_compile()
    assert count == len(list((Path(settings.BASE_DIR) / "templates").rglob("*.html")))


@pytest.mark.django_db
def test_worker_warm_up_plans_a_query_on_every_table_of_the_project():
    from django.apps import apps

    managed = [model for model in apps.get_models() if model._meta.managed and not model._meta.proxy]
    with CaptureQueriesContext(connection) as queries:
        assert worker_warm_up() > 0
    explained = [query["sql"] for query in queries if query["sql"].startswith("EXPLAIN SELECT * FROM")]
    assert len(explained) == len(managed)
    assert any(Product._meta.db_table in sql for sql in explained)
    assert connection.is_usable()


def test_gunicorn_config_warms_each_worker_up(monkeypatch):
    calls = []
    monkeypatch.setattr("channel_manager.warmup.worker_warm_up", lambda: calls.append("warmed") or 0.0)
    config = runpy.run_path(str(Path(settings.BASE_DIR) / "gunicorn.conf.py"))
    config["post_worker_init"](worker=None)
    assert calls == ["warmed"]
