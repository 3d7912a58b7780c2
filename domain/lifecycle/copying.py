"""The rules' working copy: a deep copy of the match state that costs what the state holds.

``copy.deepcopy`` asks ``issubclass``/``isinstance`` and its dispatch table about every object
it meets, and pydantic's ``__deepcopy__`` goes through it again for each model's ``__dict__``.
Inside Temporal's workflow sandbox ``isinstance`` and ``issubclass`` are Python-level wrappers
(they unwrap the sandbox's proxies), so the working copy of one decision was the dearest part
of a match's Update. ``working_copy`` makes the same copy (a new object for every model, list,
dict, set and tuple, aliasing kept; pydantic's own fields set, extra and private copied as
its ``__deepcopy__`` does) by looking at ``type(x)`` only, and falls back on ``copy.deepcopy``
for any type it does not know.
"""

import copy
import enum
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

# types whose values deepcopy returns as they are (immutable)
_ATOMIC: set[type] = {
    type(None),
    bool,
    int,
    float,
    complex,
    str,
    bytes,
    datetime,
    date,
    time,
    timedelta,
    Decimal,
}
_MODELS: set[type] = set()  # BaseModel subclasses seen


def working_copy(value: Any, shared: dict[int, Any] | None = None) -> Any:
    """Return a deep copy of ``value``; ``shared`` (id → object) is reused as it is, like
    ``copy.deepcopy``'s memo."""
    return _copy(value, {} if shared is None else dict(shared))


def _copy(x: Any, memo: dict[int, Any]) -> Any:
    t = type(x)
    if t in _ATOMIC:
        return x
    key = id(x)
    found = memo.get(key, memo)
    if found is not memo:
        return found
    if t is list:
        y: Any = []
        memo[key] = y
        y.extend([_copy(v, memo) for v in x])
        return y
    if t is dict:
        y = {}
        memo[key] = y
        for k, v in x.items():
            y[_copy(k, memo)] = _copy(v, memo)
        return y
    if t in _MODELS or _is_model(t):
        return _copy_model(x, t, key, memo)
    if t is tuple:
        y = tuple([_copy(v, memo) for v in x])
        return memo.setdefault(key, y)
    if t is set or t is frozenset:
        y = t(_copy(v, memo) for v in x)
        memo[key] = y
        return y
    if enum.Enum in t.__mro__:  # members are singletons: deepcopy returns them
        _ATOMIC.add(t)
        return x
    return copy.deepcopy(x, memo)


def _is_model(t: type) -> bool:
    if BaseModel in t.__mro__ and "__deepcopy__" not in vars(t):
        _MODELS.add(t)
        return True
    return False


def _copy_model(x: BaseModel, t: type[BaseModel], key: int, memo: dict[int, Any]) -> BaseModel:
    """As pydantic's ``BaseModel.__deepcopy__`` (a model with private attributes: by it)."""
    if getattr(x, "__pydantic_private__", None) is not None:
        return copy.deepcopy(x, memo)
    m = t.__new__(t)
    memo[key] = m
    setattr_ = object.__setattr__
    setattr_(m, "__dict__", _copy(x.__dict__, memo))
    setattr_(m, "__pydantic_extra__", _copy(x.__pydantic_extra__, memo))
    setattr_(m, "__pydantic_fields_set__", set(x.__pydantic_fields_set__))
    setattr_(m, "__pydantic_private__", None)
    return m
