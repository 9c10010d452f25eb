"""Every Amity enum reads `.value` through `Choice`'s C-level property (pydantic reads it for
each enum it writes out), and it is exactly what Enum's own `value` gives."""

from __future__ import annotations

import enum
import inspect

import domain.values
from domain.values import Choice

ENUMS = [
    kind
    for kind in vars(domain.values).values()
    if inspect.isclass(kind)
    and issubclass(kind, enum.Enum)
    and kind.__module__ == domain.values.__name__
    and kind is not Choice
]


def test_every_enum_is_a_choice_with_the_enum_value() -> None:
    assert len(ENUMS) >= 7
    enum_value = inspect.getattr_static(enum.Enum, "value")
    for kind in ENUMS:
        assert issubclass(kind, Choice), kind
        fast = inspect.getattr_static(kind, "value")
        assert isinstance(fast, property)
        assert fast.fget is not None and not inspect.isfunction(fast.fget)  # no Python code
        for member in kind:
            assert member.value == enum_value.__get__(member, kind) == str(member)
            assert type(member.value) is str
            assert kind(member.value) is member
