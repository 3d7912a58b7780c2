"""The match lifecycle as a pure transition function: ``decide(state, event) -> Decision``."""

from domain.lifecycle.machine import InvalidMove, decide, start
from domain.lifecycle.state import MatchState, next_timer

__all__ = ["InvalidMove", "MatchState", "decide", "next_timer", "start"]
