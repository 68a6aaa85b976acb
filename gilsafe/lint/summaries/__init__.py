"""Typed facts about each module (bindings, state, values, locks, entries, calls, accesses), each
computed once after the ones it declares it needs, and the project pass that links them."""
