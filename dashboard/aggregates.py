"""Database aggregates the dashboard needs beyond Django's own.

``PercentileCont`` is PostgreSQL's ``percentile_cont(f) WITHIN GROUP (ORDER BY x)``:
the value at fraction ``f`` of the sorted group, interpolated linearly between
the two nearest rows. SQLite has no percentile function (nor, before 3.47 and a
compile flag, any extension for one), so on SQLite the same SQL calls an
aggregate registered on each connection: SQLite still does the grouping and
filtering, and the aggregate keeps only the group's values to sort them once at
the end. This is the fallback for the embedded, single-machine install; the
numbers are identical on both databases (the tests run on both).
"""

import math

from django.db import NotSupportedError
from django.db.models import Aggregate, FloatField

SQLITE_PERCENTILE = "VITRINE_PERCENTILE_CONT"


class PercentileCont(Aggregate):
    """The continuous percentile of an expression over each group."""

    function = "PERCENTILE_CONT"
    name = "PercentileCont"
    output_field = FloatField()
    arity = 1

    def __init__(self, expression, *, fraction: float, **extra):
        fraction = float(fraction)
        if not 0.0 <= fraction <= 1.0:
            raise ValueError("fraction must be between 0 and 1.")
        self.fraction = fraction
        super().__init__(expression, fraction=fraction, **extra)

    def _get_repr_options(self):
        return {**super()._get_repr_options(), "fraction": self.fraction}

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError(
            f"PercentileCont is not implemented on {connection.vendor}."
        )

    def as_postgresql(self, compiler, connection, **extra_context):
        # The fraction is a validated float, so it is safe as a literal; PostgreSQL
        # wants a constant there, not a bound parameter of unknown type.
        template = (
            f"%(function)s({self.fraction!r}) WITHIN GROUP (ORDER BY %(expressions)s)"
            "%(filter)s"
        )
        return super().as_sql(compiler, connection, template=template, **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        template = f"{SQLITE_PERCENTILE}(%(expressions)s, {self.fraction!r})%(filter)s"
        return super().as_sql(compiler, connection, template=template, **extra_context)


class _SQLitePercentileCont:
    """SQLite aggregate with PostgreSQL's percentile_cont semantics."""

    def __init__(self):
        self.values: list[float] = []
        self.fraction = 0.5

    def step(self, value, fraction):
        self.fraction = fraction
        if value is not None:
            self.values.append(value)

    def finalize(self):
        if not self.values:
            return None
        self.values.sort()
        position = self.fraction * (len(self.values) - 1)
        low = math.floor(position)
        high = min(low + 1, len(self.values) - 1)
        below, above = self.values[low], self.values[high]
        return below + (above - below) * (position - low)


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate(
            SQLITE_PERCENTILE, 2, _SQLitePercentileCont
        )
