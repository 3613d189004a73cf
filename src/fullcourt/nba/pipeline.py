"""The NBA pipeline assembled for the engine: catalog (storage) + registry (processors)."""
from __future__ import annotations

from functools import lru_cache

from fullcourt.engine.spec import Registry
from fullcourt.engine.warehouse import Catalog
from fullcourt.nba import analytics, features, precompute, predict, raw, schema


@lru_cache(maxsize=1)
def registry() -> Registry:
    return Registry(raw.specs() + analytics.specs() + precompute.specs() + features.specs())


@lru_cache(maxsize=1)
def catalog() -> Catalog:
    return schema.catalog(features.MIGRATIONS + predict.MIGRATIONS + (schema.OPERATIONS, schema.CASCADE, schema.IMPORTS,
                                                                     schema.PRECOMPUTE_FLAG, schema.REMOVED_RECORDS))
