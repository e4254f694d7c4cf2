"""Unit tests of the pure ticket domain: decide, decide_open, evolve, fold and the events.

The rules come from issue 2, not from the code: the transition table and the
command rules are written out here again so a change to either side shows up.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actors import (
    PRIORITIES,
    STATUSES,
    TRANSITIONS,
    AddComment,
    AlreadyClaimed,
    AssignTicket,
    Caller,
    ClaimTicket,
    InvalidTransition,
    MoveTicket,
    OpenTicket,
    ReleaseTicket,
    SetPriority,
    SetStatus,
    SetSubject,
    TagTicket,
    Ticket,
    TicketClosed,
    TicketCommand,
    UntagTicket,
    decide,
    decide_open,
    evolve,
    fold,
)
from actors.events import (
    EVENT_TYPES,
    CommentAdded,
    PriorityChanged,
    StatusChanged,
    SubjectChanged,
    TagAdded,
    TagRemoved,
    TicketAssigned,
    TicketClaimed,
    TicketEvent,
    TicketMoved,
    TicketOpened,
    TicketReleased,
    TokenIssued,
    TokenRevoked,
    UserAdded,
    UserRevoked,
    decode,
    encode,
)
from eventlog import (
    Forbidden,
    InvalidArgument,
    Metadata,
    NotFound,
    RecordedEvent,
    SnagError,
    VersionConflict,
)
from eventlog.records import canonical

ALICE = Caller("alice", "agent")
BOB = Caller("bob", "agent")
CAROL = Caller("carol", "admin")
HOOK = Caller("hook", "integration")
REQUESTER = "dana@example.com"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

# The issue's status table, written out independently of actors.model.
ISSUE_STATUSES = ("new", "open", "pending", "solved", "closed")
ISSUE_TRANSITIONS = {
    "new": {"open", "pending", "solved"},
    "open": {"pending", "solved"},
    "pending": {"open", "solved"},
    "solved": {"open", "closed"},
    "closed": {"open"},
}


def apply(state: Ticket | None, events: list[TicketEvent], at: datetime = T0) -> Ticket:
    """Evolve `state` through `events`, each one version further."""
    for event in events:
        version = state.version + 1 if state is not None else 1
        state = evolve(state, event, version=version, at=at)
    assert state is not None
    return state


def opened(**fields: Any) -> Ticket:
    command = OpenTicket(
        **{"subject": "Printer on fire", "body": "Help", "requester": REQUESTER, **fields}
    )
    return apply(None, decide_open(42, command))


def ticket(status: str = "new", assignee: str | None = None, **fields: Any) -> Ticket:
    """A ticket in a given situation (a plain record: no need to replay a history)."""
    return replace(opened(), status=status, assignee=assignee, **fields)


def run(state: Ticket, command: TicketCommand, caller: Caller = ALICE) -> tuple[Ticket, list[Any]]:
    events = decide(state, command, caller)
    return apply(state, events), events


# Open


def test_open_makes_a_new_ticket_with_defaults() -> None:
    events = decide_open(42, OpenTicket("Printer on fire", "Help", REQUESTER))

    assert events == [
        TicketOpened(42, "Printer on fire", "Help", REQUESTER, "support", "normal", ())
    ]
    state = apply(None, events)
    assert (state.id, state.status, state.assignee, state.version) == (42, "new", None, 1)
    assert (state.queue, state.priority, state.tags, state.comments) == (
        "support",
        "normal",
        (),
        (),
    )
    assert state.created_at == state.updated_at == T0
    assert state.first_response_at is None


def test_open_takes_queue_priority_and_tags() -> None:
    command = OpenTicket("VPN down", "", REQUESTER, "it-ops", "urgent", ("vpn", "remote", "vpn"))

    [event] = decide_open(7, command)

    assert event == TicketOpened(
        7, "VPN down", "", REQUESTER, "it-ops", "urgent", ("vpn", "remote")
    )


# The status table


def test_transition_table_is_the_issues() -> None:
    assert STATUSES == ISSUE_STATUSES
    assert PRIORITIES == ("low", "normal", "high", "urgent")
    assert {old: set(new) for old, new in TRANSITIONS.items()} == ISSUE_TRANSITIONS


@pytest.mark.parametrize(("old", "new"), list(itertools.product(ISSUE_STATUSES, repeat=2)))
def test_set_status(old: str, new: str) -> None:
    state = ticket(old, assignee="alice")
    command = SetStatus(42, new)

    if old == "closed" and new != "open":
        # A closed ticket refuses every command but set_status open, this one too.
        with pytest.raises(TicketClosed):
            decide(state, command, ALICE)
    elif old == new:
        assert decide(state, command, ALICE) == []
    elif new in ISSUE_TRANSITIONS[old]:
        after, events = run(state, command)
        assert events == [StatusChanged(old, new)]
        assert after.status == new
    else:
        with pytest.raises(InvalidTransition) as refused:
            decide(state, command, ALICE)
        assert refused.value.code == "invalid_transition"
        assert set(refused.value.details["allowed"]) == ISSUE_TRANSITIONS[old]
        assert old in refused.value.message
        assert new in refused.value.message


def test_set_status_refuses_an_unknown_status() -> None:
    with pytest.raises(InvalidArgument) as refused:
        decide(ticket("open"), SetStatus(42, "done"), ALICE)
    assert refused.value.field == "status"


# Claim


def test_claim_assigns_the_caller_and_opens_a_new_ticket() -> None:
    after, events = run(opened(), ClaimTicket(42), ALICE)

    assert events == [TicketClaimed("alice"), StatusChanged("new", "open")]
    assert (after.assignee, after.status, after.version) == ("alice", "open", 3)


@pytest.mark.parametrize("status", ["open", "pending", "solved"])
def test_claim_keeps_a_status_other_than_new(status: str) -> None:
    after, events = run(ticket(status), ClaimTicket(42), BOB)

    assert events == [TicketClaimed("bob")]
    assert (after.assignee, after.status) == ("bob", status)


def test_claiming_what_you_hold_changes_nothing() -> None:
    assert decide(ticket("open", assignee="alice"), ClaimTicket(42), ALICE) == []


@pytest.mark.parametrize("caller", [BOB, CAROL], ids=["agent", "admin"])
def test_claim_of_a_held_ticket_names_the_holder(caller: Caller) -> None:
    with pytest.raises(AlreadyClaimed) as refused:
        decide(ticket("open", assignee="alice"), ClaimTicket(42), caller)

    assert refused.value.code == "already_claimed"
    assert refused.value.message == "ticket 42 is already assigned to alice"
    assert str(refused.value) == "ticket 42 is already assigned to alice"
    assert refused.value.details == {"assignee": "alice"}


def test_integration_cannot_claim() -> None:
    with pytest.raises(Forbidden):
        decide(opened(), ClaimTicket(42), HOOK)


# Release and assign


@pytest.mark.parametrize("caller", [ALICE, CAROL], ids=["assignee", "admin"])
def test_release_by_assignee_or_admin(caller: Caller) -> None:
    after, events = run(ticket("open", assignee="alice"), ReleaseTicket(42), caller)

    assert events == [TicketReleased("alice")]
    assert (after.assignee, after.status) == (None, "open")


@pytest.mark.parametrize("caller", [BOB, HOOK], ids=["other-agent", "integration"])
def test_release_by_anyone_else_is_forbidden(caller: Caller) -> None:
    with pytest.raises(Forbidden):
        decide(ticket("open", assignee="alice"), ReleaseTicket(42), caller)


def test_releasing_an_unassigned_ticket_changes_nothing() -> None:
    assert decide(ticket("open"), ReleaseTicket(42), CAROL) == []


@pytest.mark.parametrize("caller", [ALICE, CAROL], ids=["assignee", "admin"])
def test_assign_by_assignee_or_admin(caller: Caller) -> None:
    after, events = run(ticket("open", assignee="alice"), AssignTicket(42, "bob"), caller)

    assert events == [TicketAssigned("bob", "alice")]
    assert (after.assignee, after.status) == ("bob", "open")


def test_admin_assigns_an_unassigned_ticket() -> None:
    after, events = run(opened(), AssignTicket(42, "bob"), CAROL)

    assert events[0] == TicketAssigned("bob", None)
    assert after.assignee == "bob"


@pytest.mark.parametrize("state", [ticket("open", assignee="alice"), ticket("open")])
@pytest.mark.parametrize("caller", [BOB, HOOK], ids=["other-agent", "integration"])
def test_assign_by_anyone_else_is_forbidden(state: Ticket, caller: Caller) -> None:
    with pytest.raises(Forbidden):
        decide(state, AssignTicket(42, "bob"), caller)


def test_assign_refusal_reads_as_a_sentence() -> None:
    with pytest.raises(Forbidden) as refused:
        decide(ticket("open"), AssignTicket(42, "bob"), BOB)

    assert "an admin or an admin" not in refused.value.message


def test_assigning_the_current_assignee_changes_nothing() -> None:
    assert decide(ticket("open", assignee="bob"), AssignTicket(42, "bob"), CAROL) == []


# Comments


def test_public_comment_by_an_agent() -> None:
    after, events = run(ticket("open"), AddComment(42, "Have you tried turning it off?"), ALICE)

    assert events == [CommentAdded("alice", "Have you tried turning it off?", False, False)]
    [comment] = after.comments
    assert (comment.author, comment.internal, comment.from_requester, comment.at) == (
        "alice",
        False,
        False,
        T0,
    )
    assert after.status == "open"


@pytest.mark.parametrize("status", ["pending", "solved"])
def test_requester_reply_reopens(status: str) -> None:
    after, events = run(ticket(status), AddComment(42, "Still broken", from_requester=True), HOOK)

    assert events == [
        CommentAdded(REQUESTER, "Still broken", False, True),
        StatusChanged(status, "open"),
    ]
    assert after.status == "open"
    assert after.comments[0].author == REQUESTER


@pytest.mark.parametrize("status", ["new", "open"])
def test_requester_reply_keeps_new_and_open(status: str) -> None:
    after, events = run(ticket(status), AddComment(42, "Any news?", from_requester=True), HOOK)

    assert events == [CommentAdded(REQUESTER, "Any news?", False, True)]
    assert after.status == status


@pytest.mark.parametrize("status", ["pending", "solved"])
def test_agent_comment_does_not_reopen(status: str) -> None:
    after, _ = run(ticket(status), AddComment(42, "Waiting on you"), ALICE)
    assert after.status == status


@pytest.mark.parametrize("caller", [ALICE, HOOK])
def test_a_requester_reply_cannot_be_internal(caller: Caller) -> None:
    with pytest.raises(InvalidArgument):
        decide(ticket("open"), AddComment(42, "x", internal=True, from_requester=True), caller)


def test_integration_cannot_write_internal_notes() -> None:
    with pytest.raises(Forbidden):
        decide(ticket("open"), AddComment(42, "psst", internal=True), HOOK)


def test_agent_writes_an_internal_note() -> None:
    after, events = run(ticket("open"), AddComment(42, "psst", internal=True), ALICE)

    assert events == [CommentAdded("alice", "psst", True, False)]
    assert after.comments[0].internal


def test_first_response_is_the_first_public_non_requester_comment() -> None:
    state = ticket("open")
    at = [T0 + timedelta(minutes=n) for n in range(5)]

    state = apply(state, decide(state, AddComment(42, "hello?", from_requester=True), HOOK), at[0])
    state = apply(state, decide(state, AddComment(42, "note", internal=True), ALICE), at[1])
    assert state.first_response_at is None

    state = apply(state, decide(state, AddComment(42, "on it"), BOB), at[2])
    assert state.first_response_at == at[2]

    state = apply(state, decide(state, AddComment(42, "fixed"), ALICE), at[3])
    state = apply(state, decide(state, AddComment(42, "thanks", from_requester=True), HOOK), at[4])
    assert state.first_response_at == at[2]
    assert state.updated_at == at[4]
    assert [c.at for c in state.comments] == at


# Priority, subject, queue, tags


def test_set_priority() -> None:
    after, events = run(ticket("open"), SetPriority(42, "urgent"))
    assert events == [PriorityChanged("normal", "urgent")]
    assert after.priority == "urgent"


def test_set_subject() -> None:
    after, events = run(ticket("open"), SetSubject(42, "Printer smoking"))
    assert events == [SubjectChanged("Printer on fire", "Printer smoking")]
    assert after.subject == "Printer smoking"


def test_move() -> None:
    after, events = run(ticket("open"), MoveTicket(42, "billing"))
    assert events == [TicketMoved("support", "billing")]
    assert after.queue == "billing"


def test_tag_and_untag() -> None:
    state, events = run(ticket("open"), TagTicket(42, "printer"))
    assert events == [TagAdded("printer")]
    state, events = run(state, TagTicket(42, "fire"))
    assert state.tags == ("printer", "fire")

    state, events = run(state, UntagTicket(42, "printer"))
    assert events == [TagRemoved("printer")]
    assert state.tags == ("fire",)


NO_OPS = {
    "set_status": SetStatus(42, "open"),
    "set_priority": SetPriority(42, "high"),
    "set_subject": SetSubject(42, "Printer on fire"),
    "move": MoveTicket(42, "support"),
    "tag": TagTicket(42, "printer"),
    "untag": UntagTicket(42, "absent"),
    "claim": ClaimTicket(42),
    "assign": AssignTicket(42, "alice"),
}


@pytest.mark.parametrize("command", NO_OPS.values(), ids=NO_OPS.keys())
def test_a_command_that_changes_nothing_gives_no_events(command: TicketCommand) -> None:
    state = ticket("open", assignee="alice", priority="high", tags=("printer",))
    assert decide(state, command, ALICE) == []


# Closed tickets


EVERY_COMMAND_BUT_REOPEN = {
    "claim": ClaimTicket(42),
    "release": ReleaseTicket(42),
    "assign": AssignTicket(42, "bob"),
    "comment": AddComment(42, "hello"),
    "internal": AddComment(42, "hello", internal=True),
    "requester-reply": AddComment(42, "hello", from_requester=True),
    "set_status-pending": SetStatus(42, "pending"),
    "set_status-solved": SetStatus(42, "solved"),
    "set_priority": SetPriority(42, "urgent"),
    "set_subject": SetSubject(42, "New subject"),
    "move": MoveTicket(42, "billing"),
    "tag": TagTicket(42, "late"),
    "untag": UntagTicket(42, "printer"),
}


@pytest.mark.parametrize(
    "command", EVERY_COMMAND_BUT_REOPEN.values(), ids=EVERY_COMMAND_BUT_REOPEN.keys()
)
@pytest.mark.parametrize("caller", [ALICE, CAROL, HOOK], ids=["assignee", "admin", "integration"])
def test_closed_ticket_refuses_everything_but_reopening(
    command: TicketCommand, caller: Caller
) -> None:
    state = ticket("closed", assignee="alice", tags=("printer",))

    with pytest.raises(TicketClosed) as refused:
        decide(state, command, caller)
    assert refused.value.code == "ticket_closed"


def test_closed_ticket_reopens() -> None:
    after, events = run(ticket("closed", assignee="alice"), SetStatus(42, "open"), BOB)
    assert events == [StatusChanged("closed", "open")]
    assert after.status == "open"


# expected_version and missing tickets


def test_stale_expected_version_is_a_conflict() -> None:
    state = apply(opened(), [TicketClaimed("alice"), StatusChanged("new", "open")])
    assert state.version == 3

    with pytest.raises(VersionConflict) as refused:
        decide(state, SetPriority(42, "high", expected_version=2), ALICE)
    assert refused.value.current_version == 3
    assert refused.value.details["current_version"] == 3
    assert refused.value.code == "version_conflict"


def test_matching_expected_version_goes_ahead() -> None:
    state = ticket("open", version=5)
    assert decide(state, SetPriority(42, "high", expected_version=5), ALICE) == [
        PriorityChanged("normal", "high")
    ]


STALE_AND_ALSO_REFUSED = {
    "closed": (ticket("closed"), SetPriority(42, "high", expected_version=9), ALICE),
    "forbidden": (ticket("open"), ClaimTicket(42, expected_version=9), HOOK),
    "already-claimed": (ticket("open", assignee="bob"), ClaimTicket(42, expected_version=9), ALICE),
    "invalid-argument": (ticket("open"), SetPriority(42, "meh", expected_version=9), ALICE),
    "invalid-transition": (ticket("new"), SetStatus(42, "closed", expected_version=9), ALICE),
    "no-op": (ticket("open"), SetStatus(42, "open", expected_version=9), ALICE),
}


@pytest.mark.parametrize(
    ("state", "command", "caller"),
    STALE_AND_ALSO_REFUSED.values(),
    ids=STALE_AND_ALSO_REFUSED.keys(),
)
def test_expected_version_is_checked_first(
    state: Ticket, command: TicketCommand, caller: Caller
) -> None:
    with pytest.raises(VersionConflict) as refused:
        decide(state, command, caller)
    assert refused.value.current_version == state.version


def test_command_on_a_missing_ticket() -> None:
    with pytest.raises(NotFound):
        decide(None, ClaimTicket(42), ALICE)


# Validation


LONE_SURROGATE = "bad \ud800 text"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"subject": ""}, "subject"),
        ({"subject": "   "}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"subject": "a\x00b"}, "subject"),
        ({"subject": LONE_SURROGATE}, "subject"),
        ({"body": "a\x00b"}, "body"),
        ({"body": LONE_SURROGATE}, "body"),
        ({"requester": ""}, "requester"),
        ({"requester": "a\x00b"}, "requester"),
        ({"queue": ""}, "queue"),
        ({"queue": "Support"}, "queue"),
        ({"queue": "-support"}, "queue"),
        ({"queue": "sup port"}, "queue"),
        ({"queue": "support/1"}, "queue"),
        ({"queue": "support\n"}, "queue"),
        ({"queue": "q" * 41}, "queue"),
        ({"priority": "critical"}, "priority"),
        ({"priority": "URGENT"}, "priority"),
        ({"priority": ""}, "priority"),
        ({"tags": ("ok", "a\x00b")}, "tags"),
        ({"tags": ("",)}, "tags"),
    ],
)
def test_open_refuses_bad_arguments(fields: dict[str, Any], field: str) -> None:
    command = OpenTicket(
        **{"subject": "Printer on fire", "body": "Help", "requester": REQUESTER, **fields}
    )

    with pytest.raises(InvalidArgument) as refused:
        decide_open(42, command)
    assert refused.value.field == field
    assert refused.value.details == {"field": field}
    assert refused.value.code == "invalid_argument"


@pytest.mark.parametrize("queue", ["support", "a", "billing-2", "tier_1", "9lives", "q" * 40])
def test_open_takes_good_queue_names(queue: str) -> None:
    [event] = decide_open(42, OpenTicket("s", "b", REQUESTER, queue=queue))
    assert isinstance(event, TicketOpened)
    assert event.queue == queue


def test_subject_of_200_characters_is_fine() -> None:
    [event] = decide_open(42, OpenTicket("x" * 200, "b", REQUESTER))
    assert isinstance(event, TicketOpened)
    assert event.subject == "x" * 200


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (SetSubject(42, ""), "subject"),
        (SetSubject(42, "x" * 201), "subject"),
        (SetSubject(42, "a\x00b"), "subject"),
        (SetSubject(42, LONE_SURROGATE), "subject"),
        (SetPriority(42, "p1"), "priority"),
        (SetStatus(42, "OPEN"), "status"),
        (MoveTicket(42, "Billing"), "queue"),
        (MoveTicket(42, ""), "queue"),
        (TagTicket(42, ""), "tag"),
        (TagTicket(42, "a\x00b"), "tag"),
        (TagTicket(42, LONE_SURROGATE), "tag"),
        (UntagTicket(42, "a\x00b"), "tag"),
        (AddComment(42, ""), "body"),
        (AddComment(42, "a\x00b"), "body"),
        (AddComment(42, LONE_SURROGATE), "body"),
    ],
)
def test_ticket_commands_refuse_bad_arguments(command: TicketCommand, field: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        decide(ticket("open"), command, ALICE)
    assert refused.value.field == field


# Events: encode, decode, fold

ONE_OF_EACH_EVENT = [
    TicketOpened(42, "Printer on fire", "Help ✓", REQUESTER, "support", "high", ("a", "b")),
    TicketClaimed("alice"),
    TicketAssigned("bob", "alice"),
    TicketAssigned("bob", None),
    TicketReleased("bob"),
    CommentAdded("alice", "Hi", True, False),
    StatusChanged("new", "open"),
    PriorityChanged("normal", "urgent"),
    SubjectChanged("old", "new"),
    TicketMoved("support", "billing"),
    TagAdded("vip"),
    TagRemoved("vip"),
    UserAdded("alice", "agent"),
    UserRevoked("alice"),
    TokenIssued("alice", "laptop", 7),
    TokenRevoked("alice", 7),
]


def test_the_examples_cover_every_event_class() -> None:
    assert {type(e) for e in ONE_OF_EACH_EVENT} == set(EVENT_TYPES.values())


@pytest.mark.parametrize("event", ONE_OF_EACH_EVENT, ids=lambda e: type(e).__name__)
def test_encode_decode_round_trip(event: Any) -> None:
    new = encode(event)
    assert new.type == type(event).__name__

    # Through JSON text too, as the log stores and returns it.
    stored = json.loads(json.dumps(dict(new.data)))
    assert decode(new.type, stored) == event
    # Event data must be canonical-able: no floats.
    canonical(
        position=1,
        stream="s",
        version=1,
        type=new.type,
        data=new.data,
        metadata=Metadata("alice"),
        recorded_at=T0,
    )


def recorded(events: list[TicketEvent], at: datetime = T0) -> list[RecordedEvent]:
    out = []
    for version, event in enumerate(events, start=1):
        new = encode(event)
        stamp = at + timedelta(seconds=version)
        out.append(
            RecordedEvent(
                version,
                "ticket-42",
                version,
                new.type,
                dict(new.data),
                "alice",
                None,
                None,
                stamp,
                "0" * 64,
            )
        )
    return out


def test_fold_replays_a_history() -> None:
    history: list[TicketEvent] = [
        *decide_open(42, OpenTicket("Printer on fire", "Help", REQUESTER)),
        TicketClaimed("alice"),
        StatusChanged("new", "open"),
        TagAdded("printer"),
        CommentAdded("alice", "on it", False, False),
        StatusChanged("open", "pending"),
    ]

    state = fold(None, recorded(history))

    assert state is not None
    assert (state.status, state.assignee, state.tags, state.version) == (
        "pending",
        "alice",
        ("printer",),
        6,
    )
    assert state.created_at == T0 + timedelta(seconds=1)
    assert state.updated_at == T0 + timedelta(seconds=6)
    assert state.first_response_at == T0 + timedelta(seconds=5)


# A property over random command sequences

COMMANDS = st.one_of(
    st.builds(ClaimTicket, st.just(42)),
    st.builds(ReleaseTicket, st.just(42)),
    st.builds(AssignTicket, st.just(42), st.sampled_from(["alice", "bob", "carol"])),
    st.builds(
        AddComment, st.just(42), st.sampled_from(["hi", " ", "ok"]), st.booleans(), st.booleans()
    ),
    st.builds(SetStatus, st.just(42), st.sampled_from([*ISSUE_STATUSES, "bogus"])),
    st.builds(SetPriority, st.just(42), st.sampled_from([*PRIORITIES, "bogus"])),
    st.builds(SetSubject, st.just(42), st.sampled_from(["a", "b", ""])),
    st.builds(MoveTicket, st.just(42), st.sampled_from(["support", "billing", "Bad"])),
    st.builds(TagTicket, st.just(42), st.sampled_from(["x", "y"])),
    st.builds(UntagTicket, st.just(42), st.sampled_from(["x", "y"])),
)
STEPS = st.lists(st.tuples(st.sampled_from([ALICE, BOB, CAROL, HOOK]), COMMANDS), max_size=40)


@settings(max_examples=300, deadline=None)
@given(STEPS)
def test_decided_histories_fold_to_a_valid_ticket(
    steps: list[tuple[Caller, TicketCommand]],
) -> None:
    history: list[TicketEvent] = list(decide_open(42, OpenTicket("s", "b", REQUESTER)))
    state = apply(None, history)
    for caller, command in steps:
        try:
            events = decide(state, command, caller)
        except SnagError:
            continue
        for event in events:
            if isinstance(event, StatusChanged):
                assert event.old == state.status
                assert event.new in ISSUE_TRANSITIONS[event.old]
        state = apply(state, events)
        history.extend(events)
        # Whatever just happened, doing it again changes nothing or is refused.
        if not isinstance(command, AddComment):
            with contextlib.suppress(SnagError):
                assert decide(state, command, caller) == []

    folded = fold(None, recorded(history))
    assert folded is not None
    assert folded.status in ISSUE_STATUSES
    assert folded.priority in PRIORITIES
    assert folded.version == len(history)
    assert len(set(folded.tags)) == len(folded.tags)
    assert folded.assignee in (None, "alice", "bob", "carol")
    public_replies = [c for c in folded.comments if not c.internal and not c.from_requester]
    assert (folded.first_response_at is None) == (not public_replies)
    assert all(not (c.internal and c.from_requester) for c in folded.comments)
    assert all(not c.internal or c.author != "hook" for c in folded.comments)
