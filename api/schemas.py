"""Request bodies of `POST /api/commands`: pydantic lives here, at the edge, and nowhere else.

Each body is validated as a member of a union discriminated by `command`, with unknown
fields refused, then turned into the domain's command dataclass.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from actors import (
    PRIORITIES,
    STATUSES,
    AddComment,
    AssignTicket,
    ClaimTicket,
    MoveTicket,
    NextTicket,
    OpenTicket,
    ReleaseTicket,
    SetPriority,
    SetStatus,
    SetSubject,
    TagTicket,
    UntagTicket,
)
from actors.commands import TicketCommand
from api.errors import InvalidJSON, UnknownCommand, invalid_argument

Priority = Literal["low", "normal", "high", "urgent"]
Status = Literal["new", "open", "pending", "solved", "closed"]
assert set(Priority.__args__) == set(PRIORITIES)  # type: ignore[attr-defined]
assert set(Status.__args__) == set(STATUSES)  # type: ignore[attr-defined]

MAX_ID = 2**62
CommandId = Annotated[
    str,
    Field(
        pattern=r"^[\x21-\x7e]{1,128}$",
        description="Your id for this command (unique per user): a retry with it applies once.",
    ),
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    command_id: CommandId | None = None


class _OnTicket(_Body):
    ticket: int = Field(gt=0, le=MAX_ID)
    expected_version: int | None = Field(
        None, ge=0, le=MAX_ID, description="Refuse with 409 unless the ticket is at this version."
    )


class OpenBody(_Body):
    command: Literal["open"]
    subject: str = Field(description="1-200 characters")
    body: str
    requester: str = Field(description="Who asked: a name or an email address")
    queue: str = "support"
    priority: Priority = "normal"
    tags: list[str] = Field(default_factory=list, max_length=50)

    def to_command(self) -> OpenTicket:
        return OpenTicket(
            self.subject, self.body, self.requester, self.queue, self.priority, tuple(self.tags)
        )


class ClaimBody(_OnTicket):
    command: Literal["claim"]

    def to_command(self) -> ClaimTicket:
        return ClaimTicket(self.ticket, self.expected_version)


class ReleaseBody(_OnTicket):
    command: Literal["release"]

    def to_command(self) -> ReleaseTicket:
        return ReleaseTicket(self.ticket, self.expected_version)


class AssignBody(_OnTicket):
    command: Literal["assign"]
    assignee: str

    def to_command(self) -> AssignTicket:
        return AssignTicket(self.ticket, self.assignee, self.expected_version)


class CommentBody(_OnTicket):
    command: Literal["comment"]
    body: str
    internal: bool = False
    from_requester: bool = False

    def to_command(self) -> AddComment:
        return AddComment(
            self.ticket, self.body, self.internal, self.from_requester, self.expected_version
        )


class SetStatusBody(_OnTicket):
    command: Literal["set_status"]
    status: Status

    def to_command(self) -> SetStatus:
        return SetStatus(self.ticket, self.status, self.expected_version)


class SetPriorityBody(_OnTicket):
    command: Literal["set_priority"]
    priority: Priority

    def to_command(self) -> SetPriority:
        return SetPriority(self.ticket, self.priority, self.expected_version)


class SetSubjectBody(_OnTicket):
    command: Literal["set_subject"]
    subject: str

    def to_command(self) -> SetSubject:
        return SetSubject(self.ticket, self.subject, self.expected_version)


class MoveBody(_OnTicket):
    command: Literal["move"]
    queue: str

    def to_command(self) -> MoveTicket:
        return MoveTicket(self.ticket, self.queue, self.expected_version)


class TagBody(_OnTicket):
    command: Literal["tag"]
    tag: str

    def to_command(self) -> TagTicket:
        return TagTicket(self.ticket, self.tag, self.expected_version)


class UntagBody(_OnTicket):
    command: Literal["untag"]
    tag: str

    def to_command(self) -> UntagTicket:
        return UntagTicket(self.ticket, self.tag, self.expected_version)


class NextBody(_Body):
    command: Literal["next"]
    queue: str = Field(
        "support", description="Claim this queue's most urgent, oldest unassigned ticket"
    )

    def to_command(self) -> NextTicket:
        return NextTicket(self.queue)


CommandBody = Annotated[
    OpenBody
    | ClaimBody
    | ReleaseBody
    | AssignBody
    | CommentBody
    | SetStatusBody
    | SetPriorityBody
    | SetSubjectBody
    | MoveBody
    | TagBody
    | UntagBody
    | NextBody,
    Field(discriminator="command"),
]
ADAPTER: TypeAdapter[Any] = TypeAdapter(CommandBody)
COMMANDS = (
    "open", "claim", "release", "assign", "comment", "set_status",
    "set_priority", "set_subject", "move", "tag", "untag", "next",
)  # fmt: skip


def parse_json(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidJSON("the request body is not valid UTF-8") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise InvalidJSON("the request body nests too deeply") from None
    except json.JSONDecodeError as exc:
        raise InvalidJSON(
            f"the request body is not valid JSON ({exc.msg} at line {exc.lineno})"
        ) from None
    except ValueError:  # an integer of thousands of digits
        raise InvalidJSON("the request body holds a number too long to read") from None


def parse_command(data: Any) -> tuple[OpenTicket | TicketCommand | NextTicket, str | None, str]:
    """The domain command, its command_id, and the hash of its body without the command_id."""
    if not isinstance(data, dict):
        raise UnknownCommand(
            "the body must be a JSON object with a `command`", commands=list(COMMANDS)
        )
    if data.get("command") not in COMMANDS:
        raise UnknownCommand(
            f"unknown or missing command; use one of: {', '.join(COMMANDS)}",
            commands=list(COMMANDS),
        )
    try:
        body = ADAPTER.validate_python(data)
    except ValidationError as exc:
        error = invalid_argument(exc.errors(include_input=False))
        # The first location part is the union member's tag: the field follows it.
        field = error.field.partition(".")[2] or error.field
        raise type(error)(field, error.message.replace(error.field, field, 1)) from None
    rest = {k: v for k, v in data.items() if k != "command_id"}
    digest = hashlib.sha256(
        json.dumps(rest, sort_keys=True, separators=(",", ":")).encode("utf-8", "surrogatepass")
    ).hexdigest()
    return body.to_command(), body.command_id, digest


Model = TypeVar("Model", bound=BaseModel)


def validate(model: type[Model], data: Any) -> Model:
    """A request body as `model`, or `InvalidArgument` naming the first bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_argument(exc.errors(include_input=False)) from None


def openapi_schema() -> dict[str, Any]:
    return ADAPTER.json_schema(ref_template="#/components/schemas/{model}")
