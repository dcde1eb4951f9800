"""Adapters: one module per port and technology. Each translates its client's errors into port errors."""
