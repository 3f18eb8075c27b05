"""A resident's right to erase what they submitted (PIPL)."""

from django.db import transaction

from feedback.aggregates import resident_aggregate_keys
from feedback.models import Resident
from feedback.tasks import aggregates_refresh_queue


def resident_data_delete(*, resident_key_hash: str) -> bool:
    """Delete everything submitted from one cookie; the aggregates follow.

    Ratings, survey responses and answers, comments and the replies to them,
    and their review cases go with the resident row. Returns False when there
    was nothing stored.
    """
    with transaction.atomic():
        resident = Resident.objects.select_for_update().filter(key_hash=resident_key_hash).first()
        if resident is None:
            return False
        keys = resident_aggregate_keys(resident)
        resident.delete()
        aggregates_refresh_queue(keys=keys)
    return True
