"""Request and answer shapes of the sales API: a release's state, download links, and buyers' queries."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictFloat

from tutti.coop.sales.delivery import DEFAULT_DOWNLOADS, DEFAULT_LINK_HOURS, MAX_DOWNLOADS, MAX_LINK_HOURS
from tutti.coop.sales.privacy import MAX_EPSILON
from tutti.web.schemas import WholeNumber


def _text_only(value: object) -> object:
    if not isinstance(value, str):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


StrictDate = Annotated[date, BeforeValidator(_text_only)]  # an ISO date, never a number read as a timestamp


class ReleasePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    proposal_id: str
    status: str
    recipe: str
    recipe_version: int
    members_included: int
    rows: int
    built_utc: datetime | None
    expires_utc: datetime
    manifest_sha256: str | None
    watermark: str


class LinkCreate(BaseModel):
    hours: WholeNumber = Field(DEFAULT_LINK_HOURS, ge=1, le=MAX_LINK_HOURS, description="How long the link lasts.")
    downloads: WholeNumber = Field(DEFAULT_DOWNLOADS, ge=1, le=MAX_DOWNLOADS, description="Downloads it allows.")


class LinkPublic(BaseModel):
    link_id: str
    expires_utc: datetime
    downloads: int
    files: list[str]
    urls: list[str] = Field(description="One per file; each needs the buyer's login too, and counts one download.")


class QueryCreate(BaseModel):
    """What a buyer may choose of a query; anything else (SQL above all) is refused by the schema."""

    model_config = ConfigDict(extra="forbid")

    since: StrictDate | None = None
    until: StrictDate | None = None
    by: Literal["artist", "track"] | None = None
    epsilon: StrictFloat | None = Field(
        None, gt=0, le=MAX_EPSILON, description="What this answer spends of the budget."
    )


class QueryAnswerPublic(BaseModel):
    query_id: str
    tables: dict[str, list[dict[str, Any]]]
    epsilon: float
    delta: float
    epsilon_left: float
    members: int
