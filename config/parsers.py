"""The API's JSON parser: DRF's, with a bound on how deeply a body may nest.

Python's JSON decoder recurses once per level: a body of 100,000 ``[`` runs out
of stack (RecursionError, a 500) before it could fail as invalid JSON. No input of
ours nests deeper than a few levels, so anything past ``MAX_DEPTH`` is refused
as a parse error, the answer every unreadable body gets.
"""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 32


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError(_too_deep()) from error
        if _depth_exceeds(data, MAX_DEPTH):
            # Parsed, but deep enough to exhaust the stack further on (in a
            # serializer, or when the body is hashed for Idempotency-Key).
            raise ParseError(_too_deep())
        return data


def _too_deep() -> str:
    return f"JSON parse error - the body nests deeper than {MAX_DEPTH} levels."


def _depth_exceeds(data, limit: int) -> bool:
    """Tell whether ``data`` nests lists and objects deeper than ``limit``."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False
