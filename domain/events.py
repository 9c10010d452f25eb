"""Every event a partnership's history may hold, as one union the store and the workflow read.

Each event is defined in the slice of the command that causes it (`domain/slices/`); this
module names them together, so a stored history can be read back (`EVENT_LIST_ADAPTER`) and
code that handles any event can say so (`AnyEvent`).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, TypeAdapter

from domain.slices.answer_invitation import InvitationAnswered
from domain.slices.correct import Corrected
from domain.slices.draft_memorandum import MemorandumDrafted
from domain.slices.expire import Expired
from domain.slices.extend_invitation import InvitationExtended
from domain.slices.mark_dormant import BecameDormant
from domain.slices.note_renewal_due import RenewalDue
from domain.slices.note_talks_deadline import TalksDeadlinePassed
from domain.slices.open_talks import TalksOpened
from domain.slices.propose import Proposed
from domain.slices.record_approval import ApprovalRecorded, ProposalRejected
from domain.slices.record_exchange import ExchangeRecorded, Reactivated
from domain.slices.record_meeting import MeetingRecorded
from domain.slices.record_rejected_signal import SignalRejected
from domain.slices.renew import Renewed
from domain.slices.sign_memorandum import MemorandumSigned
from domain.slices.terminate import Terminated
from domain.slices.upgrade import Upgraded
from domain.slices.withdraw import Withdrawn

AnyEvent = Annotated[
    Proposed
    | TalksOpened
    | MeetingRecorded
    | MemorandumDrafted
    | ApprovalRecorded
    | ProposalRejected
    | MemorandumSigned
    | ExchangeRecorded
    | Reactivated
    | InvitationExtended
    | InvitationAnswered
    | Upgraded
    | Renewed
    | Corrected
    | Withdrawn
    | Terminated
    | TalksDeadlinePassed
    | BecameDormant
    | RenewalDue
    | Expired
    | SignalRejected,
    Field(discriminator="type"),
]

EVENT_LIST_ADAPTER: TypeAdapter[list[AnyEvent]] = TypeAdapter(list[AnyEvent])
