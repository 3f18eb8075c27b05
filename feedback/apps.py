from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The names of this app's reads among those sent with a page's own
# (``indicators.selectors.page_reads``; the page's ``added``): the chapter page's aggregates,
# an item page's participation panel.
CHAPTER_SCORES = "feedback.chapter_scores"
PANEL = "feedback.panel"


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("市民参与")

    def ready(self) -> None:
        from feedback.selectors import chapter_score_reads, panel_reads  # noqa: PLC0415 - once the models are loaded
        from indicators.models import Indicator, Story  # noqa: PLC0415 - idem
        from indicators.selectors import page_reads  # noqa: PLC0415 - idem

        # The chapter page's score and chart: their aggregates read with the page's own rows.
        page_reads("chapter", CHAPTER_SCORES, chapter_score_reads)
        # An item page's panel (and the indicator page's satisfaction beside its figure).
        page_reads("indicator", PANEL, panel_reads(Indicator))
        page_reads("story", PANEL, panel_reads(Story))
