"""Column helpers shared by the feature models."""

from __future__ import annotations

from enum import Enum
from typing import Any

from sqlalchemy import Enum as SQLEnum
from sqlalchemy import Integer
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from portal.enums import Level


def enum_column_type(enum_class: type[Enum], length: int = 32) -> SQLEnum:
    """Store an enum by its value as a plain string column (portable, readable in a dump)."""
    return SQLEnum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=length,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


def model_repr(instance: Any, *fields: str) -> str:
    shown = ", ".join(f"{name}={getattr(instance, name)!r}" for name in fields)
    return f"<{type(instance).__name__} {shown}>"


class LevelType(TypeDecorator[Level]):
    """A classification level stored as its integer, so levels compare and sort in SQL."""

    impl = Integer
    cache_ok = True

    def process_bind_param(self, value: int | None, dialect: Dialect) -> int | None:
        return None if value is None else int(Level(value))

    def process_result_value(self, value: int | None, dialect: Dialect) -> Level | None:
        return None if value is None else Level(value)
