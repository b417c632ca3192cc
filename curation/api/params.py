"""Query parameters read strictly: a value the schema does not allow is a 400 naming the parameter, never a guess."""

from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

TRUE_WORDS = ("true", "1")
FALSE_WORDS = ("false", "0")


def query_flag(request: Request, name: str, *, default: bool = False) -> bool:
    """The boolean query parameter `name`: true/1 or false/0; absent is `default`, anything else a 400.

    Read loosely, `?settled=True` or `?settled=yes` would silently mean false.
    """
    value = request.query_params.get(name)
    if value is None:
        return default
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ValidationError({name: [f"{value[:40]!r} is not a boolean; send true or false."]})
