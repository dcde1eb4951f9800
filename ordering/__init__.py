"""The shared core: domain (pure), ports, adapters and services. handlers/ and streams/ import it."""
