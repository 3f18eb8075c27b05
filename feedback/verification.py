"""The verified tier (后台实名): a resident may prove a mainland mobile number by SMS code.

The 2022 rules on internet comment services (《互联网跟帖评论服务管理规定》) expect
"后台实名、前台自愿": a platform knows that a real number stands behind an account,
while the public sees no name. Here that is optional: nothing a resident can do
requires it. A verified resident's comments may follow a lighter moderation
setting (``COMMENT_MODERATION_VERIFIED``), and aggregates can tell the verified
share.

What is stored, and why only that:

- ``Resident.phone_hash``: an HMAC of the number in E.164 form, keyed from
  ``SECRET_KEY`` under a salt of its own. A plain hash of an 11-digit number
  would be reversed by trying all of them; a keyed one cannot be without the key.
  The database's unique constraint lets one number vouch for one resident at a
  time: verifying it again from another cookie moves it there.
- ``PhoneVerification`` rows, only while a code is pending: hashes of the number
  and of the code (bound to that number), the attempts and the expiry. They are
  deleted when the code is used, superseded, revoked, with the resident's data,
  and once expired (by the next verification anyone starts).

The number itself reaches only the SMS provider, to deliver the code.

Limits (settings ``VERIFICATION_*``), so that the form cannot be used to flood a
phone with messages or to guess codes: a resend interval per number (checked on
the stored rows, exact to the second), codes per number and per client address
per period (django-ratelimit counters in the shared cache, like
``feedback.limits``), and a number of wrong attempts per code after which the
code is dead. A new code must be asked for to try again, and that is limited too,
so guessing a 6-digit code stays hopeless.
"""

import logging
import math
import re
import secrets
import unicodedata
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _
from django_ratelimit.core import get_usage
from rest_framework import status

from feedback.aggregates import resident_aggregate_keys
from feedback.models import PhoneVerification, Resident
from feedback.pipeline import SubmissionRefused
from feedback.sms import SmsError, mask_phone, send_sms
from feedback.submissions import resident_get_or_create
from feedback.tasks import aggregates_refresh_queue

logger = logging.getLogger(__name__)

CODE_LENGTH = 6
# Longer input is not a phone number with separators: refused before any parsing.
PHONE_INPUT_MAX_LENGTH = 40
# Salts distinct from the resident-id salt, so the hashes of one cannot be matched with the other.
_PHONE_SALT = "feedback.verification.phone"
_CODE_SALT = "feedback.verification.code"
_MAINLAND_MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")
# What people type between digits: spaces, hyphens and dashes, dots, brackets.
_SEPARATORS_RE = re.compile(r"[\s\-\u2010-\u2015.()]")


class VerificationThrottled(SubmissionRefused):
    """Too many codes asked for this number or from this address (429, ``Retry-After``)."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = _("获取验证码过于频繁，请稍后再试。")
    default_code = "verification_throttled"
    template = "feedback/rate_limited.html"

    def __init__(self, detail=None, *, wait: int | None = None) -> None:
        super().__init__(detail)
        # DRF's exception handler turns ``wait`` into a Retry-After header.
        self.wait = wait


class SmsNotSent(SubmissionRefused):
    """The code could not be sent; no usable code was kept (503)."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("短信发送失败，请稍后再试。")
    default_code = "sms_failed"


def phone_normalise(raw: str) -> str:
    """A mainland China mobile number in E.164 form (``+8613812345678``).

    Accepts what people type: spaces, hyphens, brackets, a ``+86``/``0086``/``86``
    prefix, full-width digits. Anything else is a ValidationError on ``phone``.
    """
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if not text:
        raise ValidationError({"phone": _("请填写手机号。")}, code="required")
    if len(text) <= PHONE_INPUT_MAX_LENGTH:
        digits = _SEPARATORS_RE.sub("", text)
        for prefix in ("+86", "0086"):
            if digits.startswith(prefix):
                digits = digits.removeprefix(prefix)
                break
        else:
            if len(digits) == 13 and digits.startswith("86"):
                digits = digits[2:]
        # ``[0-9]``, not ``\d``: other scripts' digits are not a phone number.
        if _MAINLAND_MOBILE_RE.fullmatch(digits):
            return f"+86{digits}"
    raise ValidationError(
        {"phone": _("请填写有效的中国大陆手机号（11 位数字，以 1 开头）。")}, code="invalid_phone"
    )


def _code_clean(raw: str) -> str:
    code = re.sub(r"\s", "", unicodedata.normalize("NFKC", raw or ""))
    if not re.fullmatch(rf"[0-9]{{{CODE_LENGTH}}}", code):
        raise ValidationError({"code": _("请填写短信中的 6 位数字验证码。")}, code="invalid_code")
    return code


def phone_hash_make(phone: str) -> str:
    """The stored keyed hash of a normalised number (64 hex characters)."""
    return salted_hmac(_PHONE_SALT, phone, algorithm="sha256").hexdigest()


def _code_hash(phone_hash: str, code: str) -> str:
    # Bound to the number: the same code sent to two numbers gives two hashes.
    return salted_hmac(_CODE_SALT, f"{phone_hash}:{code}", algorithm="sha256").hexdigest()


def _limit_wait(*, group: str, rate: str, value: str) -> int | None:
    """Count one more code for ``value``; seconds to wait when over ``rate``, else None.

    Like ``feedback.limits``, the count fails open when the cache is down; the
    resend interval, checked on the stored rows, still holds then.
    """
    usage = get_usage(None, group=group, key=lambda _group, _request: value, rate=rate, increment=True)
    if usage is not None and usage["should_limit"]:
        return max(int(usage["time_left"]), 1)
    return None


def _minutes(seconds: int) -> int:
    return max(math.ceil(seconds / 60), 1)


def code_ttl_minutes() -> int:
    """How long a code stays valid, in whole minutes, as the message and the page say it."""
    return _minutes(settings.VERIFICATION_CODE_TTL)


def _limits_check(*, phone_hash: str, source_hash: str, now: datetime) -> None:
    interval = settings.VERIFICATION_RESEND_INTERVAL
    since = now - timedelta(seconds=interval)
    last_sent = (
        PhoneVerification.objects.filter(phone_hash=phone_hash, created_at__gt=since)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if last_sent is not None:
        wait = max(math.ceil(interval - (now - last_sent).total_seconds()), 1)
        raise VerificationThrottled(
            _("验证码已发送，请 %(seconds)s 秒后再重新获取。") % {"seconds": wait}, wait=wait
        )
    wait = _limit_wait(
        group="feedback.verification.address", rate=settings.VERIFICATION_ADDRESS_RATE, value=source_hash
    )
    if wait is not None:
        raise VerificationThrottled(
            _("本网络获取验证码次数过多，请约 %(minutes)s 分钟后再试。") % {"minutes": _minutes(wait)},
            wait=wait,
        )
    wait = _limit_wait(
        group="feedback.verification.phone", rate=settings.VERIFICATION_PHONE_RATE, value=phone_hash
    )
    if wait is not None:
        raise VerificationThrottled(
            _("该手机号获取验证码次数过多，请约 %(minutes)s 分钟后再试。") % {"minutes": _minutes(wait)},
            wait=wait,
        )


def verification_start(*, resident_key_hash: str, phone: str, source_hash: str) -> PhoneVerification:
    """Send a one-time code to ``phone`` for the resident of ``resident_key_hash``.

    Raises ValidationError (a bad number, or one this resident already verified),
    :class:`VerificationThrottled` (429) or :class:`SmsNotSent` (503). The row is
    committed before the message is sent, so no transaction waits on the provider;
    if sending fails the row is deleted again and no usable code remains.
    """
    phone = phone_normalise(phone)
    phone_hash = phone_hash_make(phone)
    now = timezone.now()
    if Resident.objects.filter(key_hash=resident_key_hash, phone_hash=phone_hash).exists():
        raise ValidationError({"phone": _("该手机号已经验证过，无需重复验证。")}, code="already_verified")
    _limits_check(phone_hash=phone_hash, source_hash=source_hash, now=now)

    code = f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"
    ttl = settings.VERIFICATION_CODE_TTL
    with transaction.atomic():
        resident = resident_get_or_create(key_hash=resident_key_hash)
        # Only the newest code of a resident counts; the older ones go, and so do
        # everyone's expired codes, which serve nothing once the resend interval is over.
        stale_before = now - timedelta(seconds=max(ttl, settings.VERIFICATION_RESEND_INTERVAL))
        PhoneVerification.objects.filter(resident=resident).delete()
        PhoneVerification.objects.filter(created_at__lt=stale_before).delete()
        verification = PhoneVerification.objects.create(
            resident=resident,
            phone_hash=phone_hash,
            code_hash=_code_hash(phone_hash, code),
            expires_at=now + timedelta(seconds=ttl),
        )
    try:
        send_sms(phone=phone, template_params={"code": code, "minutes": str(code_ttl_minutes())})
    except (SmsError, ImproperlyConfigured) as error:
        # A provider that is down or refuses, or one that is not configured: the
        # resident can only try again later, and the code nobody received must not stay.
        PhoneVerification.objects.filter(pk=verification.pk).delete()
        log = logger.error if isinstance(error, ImproperlyConfigured) else logger.warning
        log("Verification code to %s not sent: %s", mask_phone(phone), error)
        raise SmsNotSent from error
    return verification


def _pending_problem(pending: PhoneVerification | None, now: datetime) -> str | None:
    """Why ``pending`` cannot be confirmed, or None."""
    if pending is None or pending.confirmed_at is not None:
        return _("请先获取验证码，并确认手机号与接收验证码的号码一致。")
    if pending.expires_at <= now:
        return _("验证码已过期，请重新获取。")
    if pending.attempts >= settings.VERIFICATION_MAX_ATTEMPTS:
        return _("验证码错误次数过多，已失效，请重新获取。")
    return None


def _phone_assign(*, resident: Resident, phone_hash: str, now: datetime) -> list[Resident]:
    """Give ``phone_hash`` to ``resident``; whoever held it loses it. Returns them."""
    with transaction.atomic():
        holders = Resident.objects.select_for_update().filter(phone_hash=phone_hash)
        losers = list(holders.exclude(pk=resident.pk))
        Resident.objects.filter(pk__in=[r.pk for r in losers]).update(phone_hash="", verified_at=None)
        Resident.objects.filter(pk=resident.pk).update(phone_hash=phone_hash, verified_at=now)
    return losers


def _phone_move_to(*, resident: Resident, phone_hash: str, now: datetime) -> list[Resident]:
    try:
        return _phone_assign(resident=resident, phone_hash=phone_hash, now=now)
    except IntegrityError:
        # Another resident confirmed this number at the same moment and committed
        # first, so the unique constraint stopped us (inside a savepoint). Once
        # more: each statement now sees their row, and moves the number from it.
        return _phone_assign(resident=resident, phone_hash=phone_hash, now=now)


def verification_confirm(*, resident_key_hash: str, phone: str, code: str) -> Resident:
    """Check the code of the resident's newest pending verification of ``phone``.

    Every attempt counts; after ``VERIFICATION_MAX_ATTEMPTS`` the code is dead.
    On success the resident is verified with this number, and a resident who was
    verified with it before loses it. Raises ValidationError (on ``phone`` or ``code``).
    """
    phone_hash = phone_hash_make(phone_normalise(phone))
    code = _code_clean(code)
    now = timezone.now()
    with transaction.atomic():
        pending = (
            PhoneVerification.objects.select_for_update(of=("self",))
            .select_related("resident")
            .filter(resident__key_hash=resident_key_hash, phone_hash=phone_hash)
            .order_by("-created_at", "-pk")
            .first()
        )
        problem = _pending_problem(pending, now)
        if problem is None:
            pending.attempts += 1
            if constant_time_compare(pending.code_hash, _code_hash(phone_hash, code)):
                resident = pending.resident
                losers = _phone_move_to(resident=resident, phone_hash=phone_hash, now=now)
                # The code has served; nothing of the attempt needs keeping.
                PhoneVerification.objects.filter(resident=resident).delete()
                keys = set(resident_aggregate_keys(resident))
                for loser in losers:
                    keys |= resident_aggregate_keys(loser)
                # The verified share of the items they rated changes.
                aggregates_refresh_queue(keys=keys)
                resident.phone_hash, resident.verified_at = phone_hash, now
                return resident
            pending.save(update_fields=["attempts"])
            left = settings.VERIFICATION_MAX_ATTEMPTS - pending.attempts
            if left > 0:
                problem = _("验证码不正确，还可以再试 %(n)s 次。") % {"n": left}
            else:
                problem = _("验证码错误次数过多，已失效，请重新获取。")
    # Raised after the block, so that the counted attempt is committed.
    raise ValidationError({"code": problem}, code="code_rejected")


def verification_revoke(*, resident_key_hash: str) -> bool:
    """Remove the resident's verified number and any pending code; False if there was none."""
    with transaction.atomic():
        resident = Resident.objects.select_for_update().filter(key_hash=resident_key_hash).first()
        if resident is None:
            return False
        deleted, _by_model = PhoneVerification.objects.filter(resident=resident).delete()
        had_number = bool(resident.phone_hash) or resident.is_verified
        if had_number:
            Resident.objects.filter(pk=resident.pk).update(phone_hash="", verified_at=None)
            aggregates_refresh_queue(keys=resident_aggregate_keys(resident))
    return had_number or bool(deleted)
