"""Request parsing that refuses hostile bodies with a 400 instead of failing with a 500 (the
errors themselves are answered by ``labelhub.api.errors.api_exception_handler``)."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, with nesting too deep for Python's decoder refused as a parse error."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type=media_type, parser_context=parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the JSON is nested too deeply.") from None
