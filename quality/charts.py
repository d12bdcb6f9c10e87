"""Small SVG charts drawn on the server: no charting library, nothing to run in the browser.

Every piece of text goes through ``format_html`` (escaped); numbers are formatted by us.
Each chart has a ``<title>`` and ``<desc>`` so that screen readers get the figures too.
"""

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

W, H, PAD = 360, 180, 28


def n(value: float) -> str:
    return f"{value:.1f}"


def _frame(title: str, desc: str, body: SafeString, testid: str) -> SafeString:
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" data-testid="{}">'
        "<title>{}</title><desc>{}</desc>"
        '<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}"/>'
        '<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}"/>{}</svg>',
        W,
        H,
        testid,
        title,
        desc,
        PAD,
        H - PAD,
        W - 8,
        H - PAD,
        PAD,
        8,
        PAD,
        H - PAD,
        body,
    )


def bar_chart(
    *, values: list[int], labels: list[str], title: str, testid: str, classes=None
) -> SafeString:
    top = max(values) if values and max(values) > 0 else 1
    width = (W - PAD - 12) / max(1, len(values))
    bars = []
    for i, (value, label) in enumerate(zip(values, labels, strict=True)):
        height = (H - PAD - 12) * value / top
        x = PAD + 2 + i * width
        css = f"bar {classes[i]}" if classes else "bar"
        bars.append(
            format_html(
                '<g><rect class="{}" x="{}" y="{}" width="{}" height="{}">'
                "<title>{}: {}</title></rect>"
                '<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>'
                '<text class="value" x="{}" y="{}" text-anchor="middle">{}</text></g>',
                css,
                x,
                H - PAD - height,
                max(1.0, width - 3),
                height,
                label,
                value,
                x + width / 2,
                H - PAD + 14,
                label,
                x + width / 2,
                H - PAD - height - 3,
                value,
            )
        )
    desc = ", ".join(f"{label}: {value}" for label, value in zip(labels, values, strict=True))
    return _frame(title, desc, mark_safe("".join(bars)), testid)  # noqa: S308 - parts escaped


def scatter(*, points: list[tuple[float, float, str]], title: str, testid: str) -> SafeString:
    """Points (x ≥ 0, y in 0..1, label): e.g. submissions against gold accuracy."""
    top = max((x for x, _, _ in points), default=1) or 1
    dots = format_html_join(
        "",
        '<circle class="dot" cx="{}" cy="{}" r="4"><title>{}: {} tasks, {}</title></circle>',
        (
            (
                n(PAD + (W - PAD - 16) * x / top),
                n(H - PAD - (H - PAD - 12) * y),
                label,
                int(x),
                f"{y:.0%}",
            )
            for x, y, label in points
        ),
    )
    ticks = format_html(
        '<text class="tick" x="{}" y="{}">0</text><text class="tick" x="{}" y="{}" '
        'text-anchor="end">{}</text><text class="tick" x="2" y="16">100%</text>',
        PAD,
        H - PAD + 14,
        W - 8,
        H - PAD + 14,
        int(top),
    )
    desc = "; ".join(f"{label}: {int(x)} tasks, {y:.0%}" for x, y, label in points) or "no data"
    return _frame(title, desc, ticks + dots, testid)


def line_chart(*, points: list[tuple[str, float]], title: str, testid: str) -> SafeString:
    """Values in 0..1 over labelled steps (days)."""
    if not points:
        return _frame(title, "no data yet", mark_safe(""), testid)
    step = (W - PAD - 16) / max(1, len(points) - 1)
    coords = [
        (PAD + 4 + i * step, H - PAD - (H - PAD - 12) * value)
        for i, (_, value) in enumerate(points)
    ]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    dots = format_html_join(
        "",
        '<circle class="dot" cx="{}" cy="{}" r="3"><title>{}: {}</title></circle>',
        (
            (n(x), n(y), label, f"{value:.0%}")
            for (x, y), (label, value) in zip(coords, points, strict=True)
        ),
    )
    body = format_html(
        '<polyline class="line" points="{}"/>{}<text class="tick" x="2" y="16">100%</text>',
        path,
        dots,
    )
    desc = "; ".join(f"{label}: {value:.0%}" for label, value in points)
    return _frame(title, desc, body, testid)
