"""Dataclass fields whose value is worked out only when it is first read.

    @deferred_fields("changes")
    @dataclass
    class Action: ...

    action.changes = Deferred(make_changes, target)   # made on first `action.changes`, then kept

Anything else assigned to such a field is kept as it is. Used by harvester/plan.py only (its
actions), until that module no longer defers its fields; then this module goes.
"""

from __future__ import annotations

from typing import Any, Callable


class Deferred:
    """A field value still to be made: `function(*args)` on first read."""

    __slots__ = ("function", "args")

    def __init__(self, function: Callable[..., Any], *args: Any) -> None:
        self.function = function
        self.args = args

    def __repr__(self) -> str:
        return f"Deferred({getattr(self.function, '__name__', self.function)!r})"


def deferred_fields(*names: str) -> Callable[[type], type]:
    """Class decorator (put it above @dataclass): these fields accept a `Deferred` value, made
    (once) when the field is first read."""

    def decorate(cls: type) -> type:
        for name in names:
            setattr(cls, name, _field_property(name))
        return cls

    return decorate


def _field_property(name: str) -> property:
    key = "_deferred_" + name

    def get(self: Any) -> Any:
        value = self.__dict__[key]
        if type(value) is Deferred:
            value = value.function(*value.args)
            self.__dict__[key] = value
        return value

    def set_(self: Any, value: Any) -> None:
        self.__dict__[key] = value

    return property(get, set_, doc=f"{name} (made on first read when deferred)")


def is_deferred(obj: Any, name: str) -> bool:
    """True while `obj.name` is deferred (not made yet)."""
    return type(obj.__dict__.get("_deferred_" + name)) is Deferred


def peek(obj: Any, name: str) -> Any:
    """The field's value; a deferred one is made but not kept (for big values read seldom, so
    that what holds `obj` does not hold them too)."""
    value = obj.__dict__["_deferred_" + name]
    return value.function(*value.args) if type(value) is Deferred else value


def handover(obj: Any, name: str) -> Any:
    """The field as it is held: its `Deferred` while not made yet (to defer it in another object
    without that object holding `obj`), else its value (also of a plain field)."""
    held = obj.__dict__
    key = "_deferred_" + name
    return held[key] if key in held else getattr(obj, name)
