"""The HTTP API (FastAPI): operator, participant and staff endpoints around the services."""
