"""A cooperative set to the Spark engine (``TUTTI_COOP_ENGINE=spark``) builds a passed sale's release with its job,
on Spark, and the buyer's file is exactly what the same recipe gives on DuckDB over the same members with the same
release key."""

from __future__ import annotations

import dataclasses
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from tests.coop.conftest import CoopDb
from tests.coop.engine.conftest import sorted_rows
from tests.helpers.sales import PREFERENCES, members_with_histories, passed_sale, sale
from tutti.coop.jobs.worker import Worker
from tutti.coop.models import Proposal, Release
from tutti.coop.sales.recipes import recipe_named
from tutti.coop.sales.releases import BUILD_RELEASE, READY, included_source, release_key, run_recipe
from tutti.coop.sales.sale import sale_parameters

pytestmark = pytest.mark.samples


def test_the_release_job_runs_on_spark_when_the_cooperative_says_so(founded_db: CoopDb, spark: Any) -> None:
    ids = members_with_histories(founded_db, 3)
    proposal_id, _buyer = passed_sale(founded_db, sale(PREFERENCES), ids)
    on_spark = dataclasses.replace(founded_db.settings, engine="spark")
    assert Worker(founded_db.sessions, on_spark, [BUILD_RELEASE], poll=0.01).drain() == 1
    with founded_db.sessions.begin() as session:
        release = session.scalars(select(Release)).one()
        assert (release.status, release.engine) == (READY, "spark")
        from_spark = pq.read_table(founded_db.settings.data_dir / str(release.folder) / "artist_preferences.parquet")
        key = release_key(founded_db.settings, release)
        source, _ids = included_source(session, founded_db.settings, session.get_one(Proposal, proposal_id))
        params = sale_parameters(session, proposal_id)
    on_duckdb = run_recipe(founded_db.settings, source, recipe_named("artist-preferences"), params, key, "compare")
    assert from_spark.num_rows > 0
    assert sorted_rows(from_spark.replace_schema_metadata(None)) == sorted_rows(on_duckdb.tables["artist_preferences"])
