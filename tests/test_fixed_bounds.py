"""``{% fixed %}`` keeps its texts for the life of a process, within a ceiling: by their
number and by their total length, so a process's memory for them is bounded whatever the
data (many editions, long forms)."""

from django.template import Context, Template

from portal.templatetags import chrome

# A text of 1,000 characters for each value of ``n``, Chinese in it as the forms have.
PAGE = Template("{% load chrome %}{% fixed n %}{{ n }}:{{ body }}{% endfixed %}")


def _render(n: int) -> str:
    return PAGE.render(Context({"n": n, "body": "表" * 995}))


def _kept() -> tuple[int, int]:
    return len(chrome._fixed), sum(map(len, chrome._fixed.values()))


def test_the_texts_kept_stay_under_their_total_length(monkeypatch):
    chrome._fixed_forget()
    monkeypatch.setattr(chrome, "FIXED_CHARS", 10_000)
    most = 0
    for n in range(1, 51):
        text = _render(n)
        assert text.startswith(f"{n}:") and len(text) == len(f"{n}:") + 995
        most = max(most, _kept()[1])
        assert chrome._fixed_chars == _kept()[1]
    assert 9_000 <= most <= 10_000
    # Kept ones are given again; those dropped are rendered again, the same.
    for n in range(1, 51):
        assert _render(n) == f"{n}:" + "表" * 995


def test_the_texts_kept_stay_under_their_number(monkeypatch):
    chrome._fixed_forget()
    monkeypatch.setattr(chrome, "FIXED_ENTRIES", 20)
    for n in range(1, 101):
        _render(n)
        assert _kept()[0] <= 20
    assert _render(7) == "7:" + "表" * 995
