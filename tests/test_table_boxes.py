"""Every box a wide table scrolls in (``.table-scroll``) can be reached and named by a keyboard
and screen-reader user: focusable (``tabindex="0"``), a region, named by its heading or caption
(``aria-labelledby``). On a phone such a box scrolls sideways; a box without focus is a part of
the table a keyboard cannot reach (axe: scrollable-region-focusable), and a region without a name
is one more anonymous landmark. The browser tests check the pages they open; this checks every
template and the markup written in Python, pages no browser test opens included."""

import re
from pathlib import Path

from django.conf import settings

_BOX = re.compile(r"<div\b[^>]*\bclass=\"table-scroll\"[^>]*>")
_MARKUP_IN_PYTHON = ("feedback/score_markup.py",)


def _sources() -> list[Path]:
    root = Path(settings.BASE_DIR)
    templates = [path for path in root.glob("**/templates/**/*.html") if ".venv" not in path.parts]
    return templates + [root / name for name in _MARKUP_IN_PYTHON]


def test_every_table_s_scroll_box_is_a_named_focusable_region():
    boxes, unreachable = 0, []
    for path in _sources():
        for box in _BOX.findall(path.read_text(encoding="utf-8")):
            boxes += 1
            needs = ('tabindex="0"', 'role="region"', "aria-labelledby=")
            missing = [attribute for attribute in needs if attribute not in box]
            if missing:
                unreachable.append(f"{path.relative_to(settings.BASE_DIR)}: {box} lacks {', '.join(missing)}")
    assert boxes >= 15, f"only {boxes} table boxes found: has the markup moved?"
    assert not unreachable, "\n".join(unreachable)
