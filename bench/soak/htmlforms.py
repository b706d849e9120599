"""The dashboard's HTML forms, read the way a browser submits them: every named, enabled field with its
current value (checked boxes only, the selected option or the first one), so the soak's operators post
exactly what the page offers plus what they change."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class HtmlForm:
    attrs: dict[str, str]
    fields: list[tuple[str, str]] = field(default_factory=list)  # (name, value) a browser would send
    buttons: list[tuple[str, str]] = field(default_factory=list)  # named submit buttons
    names: set[str] = field(default_factory=set)  # every named field, sent or not (disabled, unchecked)

    @property
    def action(self) -> str:
        return self.attrs.get("action", "")

    def values(self, **changes: str) -> dict[str, str]:
        """The submission as a dict (the last value of a repeated name wins), with `changes` applied."""
        data = dict(self.fields)
        data.update(changes)
        return data


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[HtmlForm] = []
        self._form: HtmlForm | None = None
        self._select: dict | None = None
        self._option: dict | None = None
        self._textarea: dict | None = None

    def handle_starttag(self, tag, attrs):
        attributes = {name: (value if value is not None else "") for name, value in attrs}
        if tag == "form":
            self._form = HtmlForm(attrs=attributes)
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        name = attributes.get("name")
        disabled = "disabled" in attributes
        if tag == "input" and name:
            self._form.names.add(name)
            kind = attributes.get("type", "text").lower()
            if disabled or kind in ("reset", "image", "file"):
                return
            if kind in ("submit", "button"):
                self._form.buttons.append((name, attributes.get("value", "")))
            elif kind in ("checkbox", "radio"):
                if "checked" in attributes:
                    self._form.fields.append((name, attributes.get("value", "on")))
            else:
                self._form.fields.append((name, attributes.get("value", "")))
        elif tag == "button" and name and not disabled:
            self._form.names.add(name)
            if attributes.get("type", "submit").lower() == "submit":
                self._form.buttons.append((name, attributes.get("value", "")))
        elif tag == "select" and name:
            self._form.names.add(name)
            self._select = {"name": name, "disabled": disabled, "first": None, "selected": None}
        elif tag == "option" and self._select is not None:
            self._option = {"value": attributes.get("value"), "text": "", "selected": "selected" in attributes}
        elif tag == "textarea" and name:
            self._form.names.add(name)
            self._textarea = {"name": name, "disabled": disabled, "text": ""}

    def handle_data(self, data):
        if self._option is not None:
            self._option["text"] += data
        if self._textarea is not None:
            self._textarea["text"] += data

    def _option_close(self) -> None:
        if self._option is None or self._select is None:
            return
        value = self._option["value"] if self._option["value"] is not None else self._option["text"].strip()
        if self._select["first"] is None:
            self._select["first"] = value
        if self._option["selected"]:
            self._select["selected"] = value
        self._option = None

    def handle_endtag(self, tag):
        if tag == "option":
            self._option_close()
        elif tag == "select" and self._select is not None:
            self._option_close()
            select, self._select = self._select, None
            value = select["selected"] if select["selected"] is not None else select["first"]
            if self._form is not None and not select["disabled"] and value is not None:
                self._form.fields.append((select["name"], value))
        elif tag == "textarea" and self._textarea is not None:
            textarea, self._textarea = self._textarea, None
            if self._form is not None and not textarea["disabled"]:
                self._form.fields.append((textarea["name"], textarea["text"].removeprefix("\n")))
        elif tag == "form":
            self._form = None


def forms_in(html: str) -> list[HtmlForm]:
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms
