"""The one e-mail a resident may receive: "your feedback has an answer".

Only residents who left an address on ``/my-data/`` get it; the address is
used for nothing else and is deleted with their data. The message carries no
reply text and no feedback text (an e-mail is not a private channel): only
that an answer is waiting, and where to read it — in the same browser, since
the resident is known only by its cookie.
"""

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from feedback.models import Resident


def reply_notice_send(*, resident_id: int) -> bool:
    """E-mail the resident that an answer waits; quiet if they left no address or are gone."""
    resident = Resident.objects.filter(pk=resident_id).exclude(notify_email="").first()
    if resident is None:
        return False
    url = settings.SITE_URL.rstrip("/") + reverse("feedback:my_data")
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("您的反馈收到了官方答复")
        body = _(
            "您在北京城市体检公众参与平台提交的反馈收到了官方答复。\n"
            "请用提交时的浏览器打开“我的数据”查看并评价答复：%(url)s\n\n"
            "您留下邮箱仅用于此类通知；可随时在“我的数据”中删除邮箱或全部数据。"
        ) % {"url": url}
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [resident.notify_email])
    return True
