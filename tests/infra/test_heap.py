"""A started process leaves its start-up objects out of the collector's full passes."""

import gc

from infra.heap import freeze_startup_heap


def test_what_is_alive_at_start_is_frozen_and_new_objects_are_still_collected():
    try:
        kept = object()
        frozen = freeze_startup_heap()
        assert frozen > 0 and frozen == gc.get_freeze_count()
        assert kept is not None
        # objects made afterwards are still collected, cycles included
        cycle: list = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1
    finally:
        gc.unfreeze()
