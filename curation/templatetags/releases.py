from django import template

from curation.access import can_make_releases as _can_make_releases

register = template.Library()


@register.filter
def can_make_releases(user) -> bool:
    return _can_make_releases(user)
