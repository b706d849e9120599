"""What a web process does once as it starts, so that no request pays for it.

`channel_manager.wsgi` calls `warm_up()` after building the WSGI application: gunicorn imports that module in
each worker before the worker accepts a connection (or once in the master with `--preload`, the workers
inheriting it). Without it the first request of every worker imported every view module and the libraries
they use (the URL conf is resolved lazily), compiled each template it rendered, loaded the translation
catalogs, and imported the context processors, the messages storage and the language's formats: ~100 ms
on top of the page itself.

`warm_up()` never touches the database: a connection opened in a `--preload` master would be shared by the
forked workers. Each worker opens its own connections once forked (`worker_warm_up`, gunicorn.conf.py's
`post_worker_init`), so its first request does not pay for a new database session either.
"""

from __future__ import annotations

import logging
import sys
import sysconfig
import time
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.template import engines
from django.template.backends.django import DjangoTemplates
from django.urls import get_resolver
from django.utils import formats, translation
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


def warm_up() -> float:
    """Import every view (by resolving the URL conf), compile the project's templates into the template
    engines' caches and load the default language's catalogs. Returns the seconds it took."""
    started = time.perf_counter()
    resolver = get_resolver()
    resolver.url_patterns  # noqa: B018 - imports every urls module and with it every view module
    resolver.reverse_dict  # noqa: B018 - builds the reverse lookup tables `{% url %}` and `reverse()` use
    templates_compile()
    request_machinery_load()
    seconds = time.perf_counter() - started
    logger.info("Web process warmed up in %.0f ms", seconds * 1000)
    return seconds


def request_machinery_load() -> list[str]:
    """Load what Django loads lazily on the first request that renders a page: the template context
    processors, the messages storage, and the default language's translation catalogs and number and date
    formats (a page localizes its figures). Returns the modules it imported."""
    before = set(sys.modules)
    for engine in engines.all():
        if isinstance(engine, DjangoTemplates):
            engine.engine.template_context_processors  # noqa: B018 - imports the context processors once
    import_string(settings.MESSAGE_STORAGE)
    with translation.override(settings.LANGUAGE_CODE):
        translation.gettext("Sync")
        translation.check_for_language(settings.LANGUAGE_CODE)
        formats.get_format_modules()
        formats.localize(Decimal("1.5"))
    return sorted(set(sys.modules) - before)


def templates_compile() -> int:
    """Compile every template in the project's template directories (not the installed libraries' own), so
    the cached loader holds them; `{% extends %}` and `{% include %}` find their parents there. Returns how
    many were compiled."""
    compiled = 0
    root = Path(settings.BASE_DIR).resolve()
    # A virtualenv may live inside the project directory (`make install` puts it in .venv): its libraries'
    # templates are not the project's.
    libraries = {
        Path(sys.prefix).resolve(),
        *(Path(sysconfig.get_path(key)).resolve() for key in ("purelib", "platlib")),
    }
    for engine in engines.all():
        if not isinstance(engine, DjangoTemplates):
            continue
        for name in engine.template_dirs:
            directory = Path(name).resolve()
            if not directory.is_relative_to(root) or not directory.is_dir():
                continue
            if any(directory.is_relative_to(library) for library in libraries):
                continue
            for path in sorted(directory.rglob("*")):
                if path.is_file() and path.suffix in (".html", ".txt", ".xml"):
                    engine.get_template(path.relative_to(directory).as_posix())
                    compiled += 1
    return compiled


def worker_warm_up() -> float:
    """Open a serving process's connections before its first request: the database (`database_warm_up`) and
    the cache. gunicorn runs it in each worker once the worker has forked (`post_worker_init` in
    gunicorn.conf.py), never in the master. Returns the seconds it took."""
    from django.core.cache import cache

    started = time.perf_counter()
    database_warm_up()
    cache.get("warm-up")  # opens the worker's Redis connection
    seconds = time.perf_counter() - started
    logger.info("Web worker connections warmed up in %.0f ms", seconds * 1000)
    return seconds


def database_warm_up(using: str = "default") -> int:
    """Open this process's connection to the database and load the new session's catalog caches (planning a
    query on a table opens the table and each of its indexes), so that the first request does not wait
    for them: ~20-40 ms on a loaded machine. Returns how many tables it planned a query on."""
    from django.apps import apps
    from django.db import connections

    connection = connections[using]
    quote = connection.ops.quote_name
    tables = 0
    with connection.cursor() as cursor:
        for model in apps.get_models():
            if model._meta.proxy or not model._meta.managed:
                continue
            # The table names are the models' own.
            cursor.execute(f"EXPLAIN SELECT * FROM {quote(model._meta.db_table)}")  # noqa: S608
            tables += 1
    return tables
