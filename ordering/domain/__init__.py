"""Pure domain: commands, events, decide / evolve / fold. No I/O, no clock, no random ids.

Time and ids are passed in, so every function here is deterministic and easy to test.
"""
