"""The sets of stages commands and events are allowed in, named once for every slice."""

from __future__ import annotations

from domain.values import Stage

ACTIVE_STAGES = frozenset({Stage.ACTIVE, Stage.DORMANT})
TALKING = frozenset({Stage.IN_TALKS, Stage.ACTIVE, Stage.DORMANT})
BEFORE_SIGNING = frozenset({Stage.PROPOSED, Stage.IN_TALKS})
NON_TERMINAL = frozenset(s for s in Stage if not s.is_terminal)
EVERY_STAGE = frozenset(Stage)
