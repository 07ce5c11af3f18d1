"""Datasets: published head lists, each head in its list's own index convention."""

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import PlainTextResponse

from api.deps import MAX_NAME_LENGTH, CatalogDep, ExportFormat, WindowDep, export_response
from api.errors import problem_responses
from catalog import datasets, exports
from catalog.schemas import DatasetHeadsPage, DatasetPublic, DatasetsPage

router = APIRouter(prefix="/datasets", tags=["literature"], responses=problem_responses(404, 422))

DatasetSlug = Annotated[str, Path(max_length=MAX_NAME_LENGTH, examples=["duo-attention-gates"])]


@router.get("")
async def list_datasets(catalog: CatalogDep, window: WindowDep) -> DatasetsPage:
    """List the published head lists: source, commit, licence, index convention and what each holds."""
    return window.page(DatasetsPage, await catalog.call(datasets.list_datasets))


@router.get("/{slug}")
async def read_dataset(catalog: CatalogDep, slug: DatasetSlug) -> DatasetPublic:
    """Show one dataset with its lists, one per model and file."""
    return await catalog.call(datasets.get_dataset, slug=slug)


@router.get("/{slug}/heads", responses=problem_responses(400))
async def list_dataset_heads(
    catalog: CatalogDep,
    window: WindowDep,
    slug: DatasetSlug,
    model: Annotated[str | None, Query(max_length=MAX_NAME_LENGTH, examples=["mistral-7b-instruct-v0.2"])] = None,
) -> DatasetHeadsPage:
    """List a dataset's heads in file order, 0-based in the dataset's unit (query heads or KV heads)."""
    return await catalog.call(datasets.dataset_heads_page, window=window, slug=slug, model=model)


@router.get("/{slug}/export", response_class=PlainTextResponse, responses=problem_responses(400))
async def export_dataset_list(
    catalog: CatalogDep,
    slug: DatasetSlug,
    model: Annotated[str, Query(max_length=MAX_NAME_LENGTH, examples=["mistral-7b-instruct-v0.2"])],
    format: ExportFormat,  # noqa: A002 - the parameter's public name
) -> PlainTextResponse:
    """One model's list of this dataset, in a format other tools read (DuoAttention's TSV, Retrieval_Head's JSON, …)."""
    head_list = await catalog.call(exports.dataset_list, slug=slug, model=model)
    return export_response(exports.export(head_list, format.value, verified=False), format.value, f"{slug}-{model}")
