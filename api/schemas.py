"""What only the API serves: its index, its health and its problem types; the catalog's data is in catalog.schemas."""

from pydantic import BaseModel, computed_field

from api.paths import entry_path
from catalog.schemas import Page, SearchHit


# The API's front page: where each resource lives.
class ApiIndex(BaseModel):
    name: str
    version: str
    resources: dict[str, str]
    docs: str
    openapi: str


# Whether the API can read its catalog.
class Health(BaseModel):
    status: str
    database: str  # the SQL dialect, sqlite or postgresql
    schema_revision: str | None
    writes: bool  # whether a token is configured


# A search hit with the address of its JSON.
class SearchResult(SearchHit):
    @computed_field  # type: ignore[prop-decorator]
    @property
    def href(self) -> str:
        return entry_path(self.kind, self.slug)


class SearchPage(Page[SearchResult]):
    pass


# One kind of error, as its type URI points to.
class ProblemTypePublic(BaseModel):
    type: str
    status: int
    title: str
    description: str
