"""What every part of the scenario format shares (``scenarios``, ``scenario_upkeep``): strict
models, and the "did you mean" of a misspelt key."""

from __future__ import annotations

import difflib
import types
from collections.abc import Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

#: A scenario's local key ("kmetz-1200", "oak-2118"): what entities refer to each other by.
KEY_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"

#: How alike a misspelt key and a known one must be for a hint (difflib's ratio).
HINT_CUTOFF = 0.6


class Strict(BaseModel):
    """Unknown fields are errors: a typo in a scenario file must not pass silently."""

    model_config = ConfigDict(extra="forbid")


def _members(tp: Any) -> list[Any]:
    """``tp`` without ``Annotated`` and ``Optional``, a union as its members."""
    origin = get_origin(tp)
    if origin is Annotated:
        return _members(get_args(tp)[0])
    if origin is Union or origin is types.UnionType:
        return [m for arg in get_args(tp) for m in _members(arg)]
    return [tp]


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _field(model: type[BaseModel], name: str) -> Any:
    for field_name, info in model.model_fields.items():
        if name in (field_name, info.alias):
            return info.annotation
    return None


def _tagged(model: type[BaseModel], tag: str) -> bool:
    """Whether ``tag`` names ``model`` in a location: its class name, or the value of one of its
    ``Literal`` fields (a tagged union's discriminator)."""
    if tag == model.__name__:
        return True
    return any(
        get_origin(info.annotation) is Literal and tag in get_args(info.annotation)
        for info in model.model_fields.values()
    )


def _step(candidates: list[Any], part: str | int) -> list[Any]:
    out: list[Any] = []
    for tp in (m for c in candidates for m in _members(c)):
        origin = get_origin(tp)
        if isinstance(part, int):
            if origin in (list, tuple, set, frozenset, Sequence) and get_args(tp):
                out.append(get_args(tp)[0])
        elif _is_model(tp):
            annotation = _field(tp, part)
            if annotation is not None:
                out.append(annotation)
            elif _tagged(tp, part):
                out.append(tp)
        elif origin is dict:
            out.append(get_args(tp)[1])
    return out


def known_keys(root: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """The member names the object at ``loc`` (a location inside a ``root`` document, such as
    ``("residents", 0)``) may have; empty when the location is not an object of a model."""
    candidates: list[Any] = [root]
    for part in loc:
        candidates = _step(candidates, part)
    names: list[str] = []
    for tp in (m for c in candidates for m in _members(c)):
        if _is_model(tp):
            names.extend(info.alias or name for name, info in tp.model_fields.items())
    return sorted(set(names))


def closest_key(root: type[BaseModel], loc: Sequence[str | int]) -> str | None:
    """For an unknown key at ``loc`` (its last part), the known key it most looks like."""
    if not loc or not isinstance(loc[-1], str):
        return None
    close = difflib.get_close_matches(loc[-1], known_keys(root, loc[:-1]), n=1, cutoff=HINT_CUTOFF)
    return close[0] if close else None


def with_hints(root: type[BaseModel], exc: ValidationError) -> ValidationError | None:
    """``exc`` with "did you mean 'email'?" added to each unknown key's message that is close to
    a known one; None when there is nothing to add. Types, locations and the other errors stay
    as they were (their messages are kept as the messages the handlers render)."""
    errors = exc.errors(include_url=False)
    hints = [
        closest_key(root, e["loc"]) if e["type"] == "extra_forbidden" else None for e in errors
    ]
    if not any(hints):
        return None
    details: list[InitErrorDetails] = []
    for e, hint in zip(errors, hints, strict=True):
        message = f"{e['msg']}; did you mean {hint!r}?" if hint else e["msg"]
        details.append(
            {
                # Without a context the message is taken as it is (no placeholders).
                "type": PydanticCustomError(e["type"], message),
                "loc": e["loc"],
                "input": e["input"],
            }
        )
    return ValidationError.from_exception_data(exc.title, details)
