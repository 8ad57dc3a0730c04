"""KPI Engine for Python: KPI formulas calculated by Apache DataFusion over Arrow data.

>>> import kpi_engine as ke
>>> cat = ke.Catalog.standard()
>>> data = ke.demo.generate(cat, rows=2_000, seed=42, start="2024-01-01", end="2024-07-01")
>>> eng = ke.Engine(cat)
>>> for name, table in data.items():
...     eng.register(name, table)
>>> res = eng.calculate("revenue", grain="month", by=["orders.region"])
>>> res.to_pyarrow().column_names
['period', 'orders.region', 'value']

Data goes in and out through the Arrow C stream interface: ``register`` and ``append`` take
pyarrow tables, polars and pandas data frames, or any object with ``__arrow_c_stream__``;
results implement ``__arrow_c_stream__`` and convert with ``to_pyarrow``, ``to_polars`` and
``to_pandas``. Errors are subclasses of :class:`KpiError`, each with a stable ``code`` and its
``kind``.
"""

from ._native import (
    CalculationError,
    CatalogError,
    DataError,
    FormulaError,
    InternalError,
    KpiError,
    PricingError,
    QueryError,
)
from . import demo, pricing
from .catalog import Catalog, ClientConfig, validate_formula
from .engine import AppendReport, Dashboard, Engine, Feed, Forecast, Result, Subscription, forecast_series

__all__ = [
    "AppendReport",
    "CalculationError",
    "Catalog",
    "CatalogError",
    "ClientConfig",
    "Dashboard",
    "DataError",
    "Engine",
    "Feed",
    "Forecast",
    "FormulaError",
    "InternalError",
    "KpiError",
    "PricingError",
    "QueryError",
    "Result",
    "Subscription",
    "forecast_series",
    "demo",
    "pricing",
    "validate_formula",
]
