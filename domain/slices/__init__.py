"""One module per command: its model, the events only it causes, its decision and how each
of those events changes the state (and reads in a sentence).

Adding a command means adding its module here, named after the command, importing it below
and naming its events in `domain/events.py`'s union; its given/when/then tests go in
`tests/domain/slices/test_<command>.py` (tests/domain/test_registry.py checks all of it).
The imports' order is the catalogue's, so the contract's: the proposal, people's commands,
then the engine's. Importing this package fills the catalogue (`domain/registry.py`).
"""

from __future__ import annotations

# isort: off
from domain.slices import propose
from domain.slices import open_talks
from domain.slices import record_meeting
from domain.slices import draft_memorandum
from domain.slices import record_approval
from domain.slices import sign_memorandum
from domain.slices import record_exchange
from domain.slices import extend_invitation
from domain.slices import answer_invitation
from domain.slices import upgrade
from domain.slices import renew
from domain.slices import correct
from domain.slices import withdraw
from domain.slices import terminate
from domain.slices import note_talks_deadline
from domain.slices import mark_dormant
from domain.slices import note_renewal_due
from domain.slices import expire
from domain.slices import record_rejected_signal
# isort: on

__all__ = [
    "answer_invitation",
    "correct",
    "draft_memorandum",
    "expire",
    "extend_invitation",
    "mark_dormant",
    "note_renewal_due",
    "note_talks_deadline",
    "open_talks",
    "propose",
    "record_approval",
    "record_exchange",
    "record_meeting",
    "record_rejected_signal",
    "renew",
    "sign_memorandum",
    "terminate",
    "upgrade",
    "withdraw",
]
