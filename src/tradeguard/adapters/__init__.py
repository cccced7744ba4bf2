"""Adapters around the domain: storage, API, console, CLI and the simulator."""
