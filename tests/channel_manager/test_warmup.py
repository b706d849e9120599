"""The web process's warm-up (channel_manager.warmup, run by channel_manager.wsgi before the first request)."""

from pathlib import Path

from django.conf import settings
from django.template import engines

from channel_manager.warmup import templates_compile, warm_up


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


def test_templates_compile_counts_the_project_templates_only():
    count = templates_compile()
    assert count == len(list((Path(settings.BASE_DIR) / "templates").rglob("*.html")))
