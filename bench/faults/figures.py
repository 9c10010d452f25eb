"""What one scenario found: the figures of a row of the table, and the problems behind them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Figures:
    """What one scenario found; `problems` explains every non-zero bad figure."""

    scenario: str
    partnerships: int = 0
    completed: int = 0
    commands_applied: int = 0
    events_stored: int = 0
    duplicates: int = 0
    losses: int = 0
    bad_tried: int = 0
    bad_clean: int = 0
    accepted_clean: int = 0
    stuck: int = 0
    reconcile_bad: int = 0
    verify_bad: int = 0
    worker_kills: int = 0
    worker_exits: int = 0
    server_restarts: int = 0
    activity_retries: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        if len(self.problems) < 200:
            self.problems.append(text)

    @property
    def ok(self) -> bool:
        return (
            not self.problems
            and self.duplicates == 0
            and self.losses == 0
            and self.stuck == 0
            and self.reconcile_bad == 0
            and self.verify_bad == 0
            and self.bad_clean == self.bad_tried
            and self.completed == self.partnerships
        )
