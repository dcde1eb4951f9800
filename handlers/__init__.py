"""Lambda entry points of the command side: parse the event, call one service, answer.

Each module is one function of infra/topology.py. What they share lives in `http` (API answers,
caller, correlation id) and `once` (Powertools idempotency on the event table). Adapters come
from ordering.bootstrap, built lazily once per container; nothing here imports infra/.
"""
