"""Adapters around the domain: storage, API, CLI and the simulator."""
