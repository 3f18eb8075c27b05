"""Per-process memos of what depends only on the code and the settings.

A static file's URL, a reversed route, a translated label, a number in a language's
format: the same for every request of a process, so worth computing once. What they
depend on besides their arguments is the settings, so each memo is forgotten when a
setting changes (a test's ``override_settings``). Never for anything read from the
database or from a visitor: that would outlive the data it was made from.
"""

import functools
from collections.abc import Callable
from typing import Any

from django.core.signals import setting_changed


def settings_memo(maxsize: int | None = None) -> Callable[[Callable], Callable]:
    """``functools.lru_cache(maxsize)``, cleared on ``setting_changed``."""

    def decorator(function: Callable) -> Callable:
        cached = functools.lru_cache(maxsize=maxsize)(function)

        def forget(**kwargs: Any) -> None:
            cached.cache_clear()

        setting_changed.connect(forget, weak=False)
        return cached

    return decorator
