"""Which part of a list to show, and one page of a list cut in SQL, with the number of rows in all."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import func
from sqlmodel import Session, select

from catalog.schemas import Page

P = TypeVar("P", bound=Page)  # type: ignore[type-arg]


@dataclass(frozen=True)
class Window:
    limit: int
    offset: int = 0

    def page(self, page_type: type[P], items: Sequence[Any]) -> P:
        """The page of a list held in memory: for lists bounded by the knowledge files (stages, methods, …)."""
        return page_type.of(items, limit=self.limit, offset=self.offset)


def sql_page(session: Session, query, window: Window, page_type: type[P], entry: Callable[..., Any]) -> P:  # type: ignore[no-untyped-def]
    """The page of `query`'s rows the window shows, each made an entry by `entry(*row)`, and the count in all.

    The count rides along with the rows (a window function, one statement); a page past the end counts apart.
    """
    counted = query.add_columns(func.count().over().label("total")).limit(window.limit).offset(window.offset)
    rows = session.execute(counted).all()
    if rows:
        total = rows[0][-1]
    else:
        total = session.exec(select(func.count()).select_from(query.order_by(None).subquery())).one()
    data = [entry(*row[:-1]) for row in rows]
    return page_type(data=data, count=total, limit=window.limit, offset=window.offset)
