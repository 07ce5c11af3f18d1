"""Runs: one detector on one model, with its parameters, timings and the heads it found."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import MAX_NAME_LENGTH, CatalogDep, WindowDep
from api.errors import problem_responses
from catalog import verification
from catalog.schemas import RunDetail, RunsPage

router = APIRouter(prefix="/runs", tags=["verification"], responses=problem_responses(400, 404, 422))


@router.get("")
async def list_runs(
    catalog: CatalogDep,
    window: WindowDep,
    model: Annotated[
        str | None, Query(max_length=MAX_NAME_LENGTH, description="Model slug.", examples=["smollm2-135m-instruct"])
    ] = None,
    detector: Annotated[
        str | None, Query(max_length=MAX_NAME_LENGTH, description="Detector name.", examples=["induction"])
    ] = None,
) -> RunsPage:
    """List stored runs by model and detector, each with the number of heads it found."""
    return await catalog.call(verification.runs_page, window=window, model=model, detector=detector)


@router.get("/{run_id}")
async def read_run(
    catalog: CatalogDep, run_id: Annotated[int, Path(ge=1, le=2**31 - 1, description="Run id.", examples=[1])]
) -> RunDetail:
    """Show one run: parameters, seed, code version, timings, and the heads it found, best first."""
    return await catalog.call(verification.get_run, run_id=run_id)
