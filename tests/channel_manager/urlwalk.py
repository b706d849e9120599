"""Walk the whole URL conf and build a concrete URL for every pattern, so security tests cover every
page, including the ones apps add later, without listing them."""

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils.regex_helper import normalize

# Machine endpoints: authenticated by their own means (Walmart-style tokens, webhook signatures), not by
# the login session, and exempt from CSRF. Anything else that opts out of login must be in PUBLIC_PAGES.
MACHINE_PREFIXES = ("/walmart-emulator/", "/webhooks/")
# Pages anyone may open: (namespace:)name -> statuses an anonymous GET may get.
PUBLIC_PAGES = {
    "login": {200},
    "healthz": {200, 503},
    "admin:login": {200},
}

SAMPLE_VALUES = ("1", "x", "auth", "00000000-0000-0000-0000-000000000001")
_ROUTE_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class WalkedPattern:
    route: str  # the full pattern, for messages
    name: str | None  # "namespace:name"
    callback: Callable
    parameters: tuple[str, ...]
    _template: str  # the full path with {name} placeholders

    def url(self, **values: str) -> str:
        """The path with `values` for the named parameters and a sample value for the others."""
        for combination in itertools.product(SAMPLE_VALUES, repeat=len(self.parameters)):
            filled = dict(zip(self.parameters, combination, strict=True)) | {k: str(v) for k, v in values.items()}
            path = "/" + self._template.format(**filled)
            try:
                match = resolve(path)
            except Resolver404:
                continue
            if match.func is self.callback or getattr(match.func, "__wrapped__", None) is self.callback:
                return path
        raise AssertionError(f"No sample URL resolves to {self.route!r}: add a value to SAMPLE_VALUES")

    @property
    def is_machine_endpoint(self) -> bool:
        return ("/" + self._template).startswith(MACHINE_PREFIXES)


def _segment(pattern) -> tuple[str, list[str]]:
    """One pattern's part of the path as a format string, and the names of its parameters."""
    if isinstance(pattern, RoutePattern):
        route = str(pattern).replace("{", "{{").replace("}", "}}")
        names = [match["name"] for match in _ROUTE_PARAMETER.finditer(route)]
        return _ROUTE_PARAMETER.sub(lambda match: "{" + match["name"] + "}", route), names
    if isinstance(pattern, RegexPattern):
        template, names = normalize(pattern.regex.pattern)[0]
        template = template.replace("{", "{{").replace("}", "}}").replace("%(", "{").replace(")s", "}")
        return template.replace("%%", "%"), names
    raise TypeError(f"Unknown pattern type {type(pattern)!r}")


def url_patterns(
    resolver: URLResolver | None = None, prefix: str = "", names: tuple[str, ...] = (), namespace: str = ""
) -> Iterator[WalkedPattern]:
    """Every view pattern of the URL conf, depth first."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        template, parameters = _segment(entry.pattern)
        if isinstance(entry, URLResolver):
            child_namespace = ":".join(filter(None, [namespace, entry.namespace or ""]))
            yield from url_patterns(entry, prefix + template, names + tuple(parameters), child_namespace)
        elif isinstance(entry, URLPattern):
            full_name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield WalkedPattern(
                route=prefix + template,
                name=full_name,
                callback=entry.callback,
                parameters=names + tuple(parameters),
                _template=prefix + template,
            )
