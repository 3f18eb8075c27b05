from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewConfig(AppConfig):
    name = "review"
    verbose_name = _("责任规划师工作台")

    def ready(self) -> None:
        # The feedback app sits below this one and calls back through its hooks
        # (feedback/hooks.py); importing services here, at start-up, is the wiring.
        from feedback import hooks  # noqa: PLC0415 - app registry must be ready first
        from review import services  # noqa: PLC0415 - models load only once apps are ready

        hooks.register(
            "feedback_stored", services.case_open_on_feedback_stored, acts=services.feedback_opens_case
        )
        hooks.register("comment_moderated", services.case_record_moderation)
        hooks.register("ratings_hold_decided", services.case_record_hold_decision)
        hooks.register("resident_data_deleting", services.cases_record_feedback_deleted)
