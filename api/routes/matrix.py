"""The transferability matrix: which head types our runs found on which models."""

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CatalogDep
from api.errors import problem_responses
from catalog.matrix import transferability_matrix
from catalog.schemas import TransferabilityMatrix

router = APIRouter(prefix="/matrix", tags=["verification"], responses=problem_responses(400, 422))


@router.get("")
async def read_matrix(
    catalog: CatalogDep,
    stage: Annotated[str | None, Query(max_length=8, description="Stage code, any case.", examples=["ICI"])] = None,
    tested_only: Annotated[bool, Query(description="Leave out head types no run tested.")] = True,
) -> TransferabilityMatrix:
    """Show head types × models: found or not, at which layers and depths, best score, beside the survey's marks."""
    return await catalog.call(transferability_matrix, stage=stage, tested_only=tested_only)
