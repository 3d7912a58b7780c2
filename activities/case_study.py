"""Drafting a Matchmaker case study: the rules write it (domain.lifecycle.case_study)."""

from domain.lifecycle.case_study import render_case_study

__all__ = ["render_case_study"]
