"""What a web process does once as it starts, so that no request pays for it.

`channel_manager.wsgi` calls `warm_up()` after building the WSGI application: gunicorn imports that module in
each worker before the worker accepts a connection (or once in the master with `--preload`, the workers
inheriting it). Without it the first request of every worker imported every view module and the libraries
they use (the URL conf is resolved lazily), compiled each template it rendered and loaded the translation
catalogs: ~100 ms on top of the page itself.

It never touches the database: a connection opened in a `--preload` master would be shared by the forked
workers.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from django.conf import settings
from django.template import engines
from django.template.backends.django import DjangoTemplates
from django.urls import get_resolver
from django.utils import translation

logger = logging.getLogger(__name__)


def warm_up() -> float:
    """Import every view (by resolving the URL conf), compile the project's templates into the template
    engines' caches and load the default language's catalogs. Returns the seconds it took."""
    started = time.perf_counter()
    resolver = get_resolver()
    resolver.url_patterns  # noqa: B018 - imports every urls module and with it every view module
    resolver.reverse_dict  # noqa: B018 - builds the reverse lookup tables `{% url %}` and `reverse()` use
    templates_compile()
    with translation.override(settings.LANGUAGE_CODE):
        translation.gettext("Sync")
    seconds = time.perf_counter() - started
    logger.info("Web process warmed up in %.0f ms", seconds * 1000)
    return seconds


def templates_compile() -> int:
    """Compile every template in the project's template directories (not the installed libraries' own), so
    the cached loader holds them; `{% extends %}` and `{% include %}` find their parents there. Returns how
    many were compiled."""
    compiled = 0
    root = Path(settings.BASE_DIR).resolve()
    for engine in engines.all():
        if not isinstance(engine, DjangoTemplates):
            continue
        for name in engine.template_dirs:
            directory = Path(name).resolve()
            if not directory.is_relative_to(root) or not directory.is_dir():
                continue
            for path in sorted(directory.rglob("*")):
                if path.is_file() and path.suffix in (".html", ".txt", ".xml"):
                    engine.get_template(path.relative_to(directory).as_posix())
                    compiled += 1
    return compiled
