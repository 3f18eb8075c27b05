"""The one place where apps above ``feedback`` hear about what happens in it.

The apps are layered ``indicators`` ← ``feedback`` ← ``review``: a lower app
never imports a higher one. Yet when a resident's feedback is stored or a
comment is moderated, the review workspace must act (open the case, write its
history). So the higher app registers a receiver here, in its
``AppConfig.ready()``, and the feedback services call :func:`notify`.

Events (the keyword arguments each receiver gets):

``feedback_stored``
    ``comment=``, ``answer=`` or ``rating=`` (exactly one): a row was created
    or changed. Receivers run inside the submission's transaction, so what
    they write commits or rolls back with the feedback itself (unless every
    receiver's ``acts`` says it does nothing with the row: a new resident's
    rating of 3–5 is then one statement, without a transaction around it).
``comment_moderated``
    ``comment=``, ``moderator=``, ``before_state=`` (the state before: a code),
    ``reason=``: a moderator approved or rejected a comment, from the admin,
    the workspace or anywhere else. Inside the moderation transaction.
``ratings_hold_decided``
    ``ratings=`` (the rows), ``actor=``, ``release=`` (True: now counted;
    False: discarded), ``note=``: a person decided on held ratings.
``resident_data_deleting``
    ``comment_ids=``, ``answer_ids=``, ``rating_ids=`` (lists): a resident is
    deleting their data; these rows are about to be anonymised (comments) or
    deleted (the rest). Inside the deletion transaction, before the rows go,
    so receivers can keep their own record of them.

Unlike Django signals, an unknown event name is an error, and there are no
senders or weak references to reason about: receivers are plain functions
registered once at start-up.

A receiver may be registered with ``acts``: a predicate on the event's keyword
arguments that says whether the receiver would do anything with them. A service
asks :func:`acting` before it prepares for receivers what only they need (a
transaction around a write that is atomic by itself, for example); a receiver
registered without ``acts`` always acts.
"""

from collections.abc import Callable

EVENTS = ("feedback_stored", "comment_moderated", "ratings_hold_decided", "resident_data_deleting")

_receivers: dict[str, list[Callable[..., object]]] = {event: [] for event in EVENTS}
# receiver → its ``acts`` predicate, for those registered with one
_acts: dict[Callable[..., object], Callable[..., bool]] = {}


def register(event: str, receiver: Callable[..., object], *, acts: Callable[..., bool] | None = None) -> None:
    """Call ``receiver(**kwargs)`` on every ``event``; idempotent per receiver.

    ``acts(**kwargs)``: whether the receiver does anything with those arguments
    (it must answer False only where the receiver then returns without a query).
    """
    if event not in _receivers:
        raise ValueError(f"Unknown feedback event {event!r}; known: {', '.join(EVENTS)}")
    if receiver not in _receivers[event]:
        _receivers[event].append(receiver)
    if acts is not None:
        _acts[receiver] = acts


def acting(event: str, **kwargs: object) -> bool:
    """Whether any receiver of ``event`` would act on ``kwargs`` (see ``register``)."""
    return any((acts := _acts.get(receiver)) is None or acts(**kwargs) for receiver in _receivers[event])


def notify(event: str, **kwargs: object) -> None:
    """Run the receivers of ``event`` in registration order; their errors propagate."""
    for receiver in _receivers[event]:
        receiver(**kwargs)
