"""The API's pagination: page numbers, with a page size the client may choose."""

from django.conf import settings
from rest_framework import pagination
from rest_framework.exceptions import ValidationError


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=`` and ``?page_size=`` (at most VITRINE_API_MAX_PAGE_SIZE)."""

    page_size_query_param = "page_size"

    @property
    def max_page_size(self) -> int:
        return settings.VITRINE_API_MAX_PAGE_SIZE

    @property
    def page_size(self) -> int:
        return settings.VITRINE_API_PAGE_SIZE

    def get_page_size(self, request) -> int:
        """The asked page size, at most the maximum; 400 for one that is no size."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if size < 1:
            raise ValidationError(
                {self.page_size_query_param: ["A page size is a positive integer."]}
            )
        return min(size, self.max_page_size)

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param)
        # isdigit() alone takes "²", which int() refuses.
        if raw is not None and not (raw.isascii() and raw.isdigit() and int(raw)):
            raise ValidationError(
                {self.page_query_param: ["A page number is a positive integer."]}
            )
        return super().get_page_number(request, paginator)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "description": "Capped at VITRINE_API_MAX_PAGE_SIZE.",
                }
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
        return parameters
