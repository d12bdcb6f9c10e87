from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from django import template

register = template.Library()


@register.filter
def money(value) -> str:
    """Two decimals (the ledger keeps four: a per-hour rate pays fractions of a cent)."""
    if value is None or value == "":
        return "—"
    return str(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@register.filter
def money_down(value) -> str:
    """Cut to the cent: effective pay shown against a floor never reads above what it is."""
    if value is None or value == "":
        return "—"
    return str(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_FLOOR))


@register.filter
def duration(seconds) -> str:
    seconds = int(seconds or 0)
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min"
    return f"{seconds} s"


@register.filter
def percent(value) -> str:
    return f"{float(value) * 100:.0f}%"


QUANTILE_NAMES = {
    "p10": "10th percentile",
    "p25": "25th",
    "p50": "Median",
    "p75": "75th",
    "p90": "90th",
}


@register.filter
def quantile_name(key: str) -> str:
    return QUANTILE_NAMES.get(key, key)


@register.simple_tag
def project_pay_terms(project):
    """``{% project_pay_terms project as terms %}``: the project's pay in one line (its
    ``state``: paid, unpaid or unset, and ``words``)."""
    from pay.selectors import pay_terms_for

    return pay_terms_for(project=project)


@register.simple_tag
def pay_terms_attach(projects) -> str:
    """``{% pay_terms_attach projects %}`` sets ``project.pay_terms`` on each of a list of
    projects in two queries (the home page's cards)."""
    from pay.selectors import pay_terms_for_projects

    projects = list(projects or [])
    terms = pay_terms_for_projects(projects)
    for project in projects:
        project.pay_terms = terms.get(project.pk)
    return ""
