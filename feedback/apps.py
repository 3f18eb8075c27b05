from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The name of the chapter page's aggregates among the reads sent with its own
# (``indicators.selectors.ChapterPage.added``).
CHAPTER_SCORES = "feedback.chapter_scores"


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("市民参与")

    def ready(self) -> None:
        from feedback.selectors import chapter_score_reads  # noqa: PLC0415 - once the models are loaded
        from indicators.selectors import chapter_page_reads  # noqa: PLC0415 - idem

        # The chapter page's score and chart: their aggregates read with the page's own rows.
        chapter_page_reads(CHAPTER_SCORES, chapter_score_reads)
