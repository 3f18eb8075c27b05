"""What a browser would submit from a page's form, read from the page's HTML."""

from html.parser import HTMLParser


class FormFields(HTMLParser):
    """What a browser would submit from the HTML it is fed: inputs, selects, textareas."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in {"submit", "button", "file"}:
            ticked = attrs.get("type") in {"checkbox", "radio"}
            if ticked and "checked" not in attrs:
                return
            self.data.setdefault(name, []).append(attrs.get("value", "on" if ticked else ""))
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in attrs:
            self.data[self._select].append(attrs.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = [""]

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            # A browser drops the newline Django writes after <textarea>.
            self.data[self._textarea][0] = self.data[self._textarea][0].removeprefix("\n")
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea][0] += data


def form_fields(html: str) -> dict[str, list[str]]:
    """Name → values of the inputs, selects and textareas in ``html`` (pass the form's part of
    the page when it has others)."""
    parser = FormFields()
    parser.feed(html)
    return parser.data
