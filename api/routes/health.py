"""Whether the API can read its catalog; answered on a connection of its own, however busy the server is."""

from fastapi import APIRouter, Response
from sqlmodel import Session

from api.deps import CatalogDep, SettingsDep
from api.errors import problem_responses
from api.schemas import Health
from catalog import crud

router = APIRouter(prefix="/health", tags=["index"], responses=problem_responses(503))


@router.get("")
async def read_health(catalog: CatalogDep, settings: SettingsDep, response: Response) -> Health:
    """Check that the catalog database answers, at which schema revision, and whether writes are accepted."""
    response.headers["Cache-Control"] = "no-store"
    database, revision = await catalog.call_for_health(_database_and_revision)
    return Health(status="ok", database=database, schema_revision=revision, writes=settings.api_token is not None)


def _database_and_revision(*, session: Session) -> tuple[str, str | None]:
    return session.get_bind().dialect.name, crud.schema_revision(session=session)
