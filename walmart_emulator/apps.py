from typing import Any

from django.apps import AppConfig


class WalmartEmulatorConfig(AppConfig):
    name = "walmart_emulator"
    verbose_name = "Walmart emulator"

    def ready(self) -> None:
        from django.conf import settings

        if settings.WALMART_EMULATOR_ENABLED:
            keep_walmart_headers_in_dev_server()


def keep_walmart_headers_in_dev_server() -> None:
    """Let Walmart's header names (`WM_SEC.ACCESS_TOKEN`: underscores) reach the emulator.

    Django's runserver / live server delete every header with an underscore before building the WSGI
    environ (anti-spoofing: `A_B` and `A-B` both become HTTP_A_B). Walmart's API uses exactly such
    names, so, only when the emulator is enabled, the dev server's handler copies the `WM_*` headers
    as sent into `environ["walmart_emulator.raw_headers"]` before Django strips them. Nothing else
    reads that key, so the anti-spoofing rule still holds for the rest of the project. It also hands the
    client's socket to the "answer lost" fault and sets TCP_NODELAY on it. Safe to call twice.
    """
    import socket

    from django.core.servers import basehttp

    from walmart_emulator.http import RAW_HEADERS_KEY

    handler = basehttp.WSGIRequestHandler
    if getattr(handler.get_environ, "_walmart_emulator", False):
        return
    original = handler.get_environ

    def get_environ(self):
        raw = {key: value for key, value in self.headers.items() if key.upper().startswith("WM_")}
        environ: dict[str, Any] = original(self)
        environ[RAW_HEADERS_KEY] = raw
        environ["walmart_emulator.socket"] = self.connection  # for the "answer lost" fault
        try:  # wsgiref writes headers and body separately: without this, delayed ACKs add ~40 ms per call
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        return environ

    get_environ._walmart_emulator = True  # type: ignore[attr-defined]  # the mark of this patch
    handler.get_environ = get_environ  # type: ignore[method-assign]  # a patch of runserver's handler
