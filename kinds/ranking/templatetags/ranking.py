from django import template

register = template.Library()


@register.filter
def letter(index: int) -> str:
    """``{{ forloop.counter0|letter }}``: 0 → "A", 1 → "B" … the names responses go by on screen."""
    return chr(ord("A") + int(index)) if 0 <= int(index) < 26 else str(int(index) + 1)
