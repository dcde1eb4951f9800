"""Use cases: read what a decision needs through the ports, decide (pure), write in one step.

Each service function does one thing and is what a handler calls. Time and ids come from a
Stamp, so tests can fix them; writes that lose a race are retried with jitter.
"""
