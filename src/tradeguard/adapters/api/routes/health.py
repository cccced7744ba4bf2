"""Liveness, readiness, metrics and the problem type documentation."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from tradeguard.adapters.api.deps import AppDep, problems
from tradeguard.adapters.api.problems import API_PROBLEMS, STATUS_OF_KIND, ApiProblem
from tradeguard.adapters.api.routing import api_router
from tradeguard.adapters.api.schemas import Health
from tradeguard.adapters.storage import migrations
from tradeguard.kernel.errors import TradeGuardError

router = api_router(tags=["operations"])


@router.get("/healthz", summary="Liveness")
def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get(
    "/readyz", summary="Readiness", responses={503: {"model": Health, "description": "Not ready."}}
)
def readyz(app: AppDep) -> Response:
    """The database answers and its schema is at the newest revision."""
    checks: dict[str, str] = {}
    try:
        with app.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
        checks["schema"] = (
            "ok" if migrations.is_up_to_date(app.engine) else "behind: run tradeguard migrate"
        )
    except Exception as exc:
        checks["database"] = f"unavailable: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    health = Health(status="ok" if ready else "unavailable", checks=checks)
    return JSONResponse(health.model_dump(), status_code=200 if ready else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {
            "content": {CONTENT_TYPE_LATEST: {}},
            "description": "Metrics in the Prometheus text format.",
        }
    },
)
def metrics(request: Request) -> Response:
    """Request counts and latencies by route, deadline and webhook counters."""
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


@router.get(
    "/problems/{code}", summary="What a problem type means", responses=problems(404, 422, 429)
)
def problem_type(
    code: Annotated[str, Path(max_length=64, pattern=r"^[a-z_]+$")],
) -> dict[str, str | int]:
    """The documentation of a problem `type` (`/problems/{code}`) that errors point to."""
    if code in API_PROBLEMS:
        status, title, text_ = API_PROBLEMS[code]
        return {"code": code, "status": status, "title": title, "description": text_}
    for cls in _all_errors(TradeGuardError):
        if cls.code == code:
            doc = (cls.__doc__ or code).strip().splitlines()[0]
            return {
                "code": code,
                "status": STATUS_OF_KIND[cls.kind],
                "title": code.replace("_", " ").capitalize(),
                "description": doc,
            }
    raise ApiProblem("not_found", f"No problem type {code!r}.")


def _all_errors(base: type[TradeGuardError]) -> list[type[TradeGuardError]]:
    found = [base]
    for sub in base.__subclasses__():
        found.extend(_all_errors(sub))
    return found
