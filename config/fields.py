"""Serializer fields the API's inputs share."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

# Object ids are 64-bit: a larger number is refused before it reaches the database.
MAX_ID = 2**63 - 1


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdRelatedField(serializers.PrimaryKeyRelatedField):
    """An object by its id; an id out of range is "does not exist", not an error."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            number = int(data)
        except (TypeError, ValueError):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 1 <= number <= MAX_ID or str(number) != str(data).strip():
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(number)


def id_list(**kwargs) -> serializers.ListField:
    """A list of object ids."""
    return serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), **kwargs
    )
