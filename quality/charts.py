"""Small SVG charts drawn on the server: no charting library, nothing to run in the browser.

Every piece of text goes through ``format_html`` (escaped); numbers are formatted by us.
Each chart has a ``<title>`` and ``<desc>`` so that screen readers get the figures too, a title
on each axis, and a line saying so when there is not enough data to draw. A bar or a dot may
link to the tasks behind it (the data manager's task list with its filters).
"""

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

W, H = 480, 260
LEFT, BOTTOM, TOP, RIGHT = 56, 50, 14, 12  # room for the ticks and the axis titles
NOT_ENOUGH = "Not enough data yet"


def n(value: float) -> str:
    return f"{value:.1f}"


def _frame(
    title: str,
    desc: str,
    body: SafeString,
    testid: str,
    *,
    x_title: str,
    y_title: str,
    empty: str = "",
) -> SafeString:
    """The chart's box, axes and axis titles around ``body``; ``empty`` (words) instead of a
    plot when there is nothing honest to draw."""
    note = (
        format_html(
            '<text class="empty-note" x="{}" y="{}" text-anchor="middle" '
            'data-testid="chart-empty">{}</text>',
            n((LEFT + W - RIGHT) / 2),
            n((TOP + H - BOTTOM) / 2),
            empty,
        )
        if empty
        else body
    )
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" data-testid="{}">'
        "<title>{}</title><desc>{}</desc>"
        '<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}"/>'
        '<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}"/>'
        '<text class="axis-title" x="{}" y="{}" text-anchor="middle" data-testid="x-title">'
        "{}</text>"
        '<text class="axis-title" transform="rotate(-90)" x="{}" y="{}" text-anchor="middle" '
        'data-testid="y-title">{}</text>{}</svg>',
        W,
        H,
        testid,
        title,
        desc if not empty else f"{empty}.",
        LEFT,
        H - BOTTOM,
        W - RIGHT,
        H - BOTTOM,
        LEFT,
        TOP,
        LEFT,
        H - BOTTOM,
        n((LEFT + W - RIGHT) / 2),
        H - 6,
        x_title,
        n(-(TOP + H - BOTTOM) / 2),
        12,
        y_title,
        note,
    )


def _linked(href: str | None, label: str, inner: SafeString) -> SafeString:
    if not href:
        return inner
    return format_html('<a href="{}" aria-label="{}">{}</a>', href, label, inner)


def bar_chart(
    *,
    values: list[int],
    labels: list[str],
    title: str,
    testid: str,
    x_title: str,
    y_title: str,
    classes=None,
    links: list[str | None] | None = None,
    empty: str = NOT_ENOUGH,
) -> SafeString:
    """One bar per value; ``links`` (one URL or None per bar) lead to the tasks behind it."""
    top = max(values) if values and max(values) > 0 else 1
    plot_h = H - BOTTOM - TOP
    width = (W - LEFT - RIGHT - 4) / max(1, len(values))
    bars = []
    for i, (value, label) in enumerate(zip(values, labels, strict=True)):
        height = plot_h * value / top
        x = LEFT + 2 + i * width
        css = f"bar {classes[i]}" if classes else "bar"
        bar = format_html(
            '<g><rect class="{}" x="{}" y="{}" width="{}" height="{}">'
            "<title>{}: {}</title></rect>"
            '<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>'
            '<text class="value" x="{}" y="{}" text-anchor="middle">{}</text></g>',
            css,
            n(x),
            n(H - BOTTOM - height),
            n(max(1.0, width - 3)),
            n(height),
            label,
            value,
            n(x + width / 2),
            H - BOTTOM + 14,
            label,
            n(x + width / 2),
            n(H - BOTTOM - height - 3),
            value,
        )
        href = links[i] if links and value else None
        bars.append(_linked(href, f"{label}: {value} — see them", bar))
    desc = ", ".join(f"{label}: {value}" for label, value in zip(labels, values, strict=True))
    nothing = not any(values)
    return _frame(
        title,
        desc,
        mark_safe("".join(bars)),  # noqa: S308 - parts escaped
        testid,
        x_title=x_title,
        y_title=y_title,
        empty=empty if nothing else "",
    )


def scatter(
    *,
    points: list[tuple[float, float, str]],
    title: str,
    testid: str,
    x_title: str,
    y_title: str,
    links: list[str | None] | None = None,
    empty: str = NOT_ENOUGH,
) -> SafeString:
    """Points (x ≥ 0, y in 0..1, label): e.g. submissions against gold accuracy."""
    top = max((x for x, _, _ in points), default=1) or 1
    plot_w, plot_h = W - LEFT - RIGHT - 8, H - BOTTOM - TOP
    dots = mark_safe(  # noqa: S308 - every part escaped
        "".join(
            _linked(
                links[i] if links else None,
                f"{label}: see their tasks",
                format_html(
                    '<circle class="dot" cx="{}" cy="{}" r="4"><title>{}: {} tasks, {}</title>'
                    "</circle>",
                    n(LEFT + plot_w * x / top),
                    n(H - BOTTOM - plot_h * y),
                    label,
                    int(x),
                    f"{y:.0%}",
                ),
            )
            for i, (x, y, label) in enumerate(points)
        )
    )
    ticks = format_html(
        '<text class="tick" x="{}" y="{}">0</text><text class="tick" x="{}" y="{}" '
        'text-anchor="end">{}</text><text class="tick" x="{}" y="{}" text-anchor="end">100%</text>',
        LEFT,
        H - BOTTOM + 14,
        W - RIGHT,
        H - BOTTOM + 14,
        int(top),
        LEFT - 3,
        TOP + 4,
    )
    desc = "; ".join(f"{label}: {int(x)} tasks, {y:.0%}" for x, y, label in points)
    return _frame(
        title,
        desc,
        ticks + dots,
        testid,
        x_title=x_title,
        y_title=y_title,
        empty="" if points else empty,
    )


def line_chart(
    *,
    points: list[tuple[str, float]],
    title: str,
    testid: str,
    x_title: str,
    y_title: str,
    empty: str = NOT_ENOUGH,
) -> SafeString:
    """Values in 0..1 over labelled steps (days); a line needs two points at least."""
    if len(points) < 2:
        desc = "; ".join(f"{label}: {value:.0%}" for label, value in points)
        return _frame(
            title, desc, mark_safe(""), testid, x_title=x_title, y_title=y_title, empty=empty
        )
    plot_w, plot_h = W - LEFT - RIGHT - 8, H - BOTTOM - TOP
    step = plot_w / (len(points) - 1)
    coords = [
        (LEFT + 4 + i * step, H - BOTTOM - plot_h * value) for i, (_, value) in enumerate(points)
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
        '<polyline class="line" points="{}"/>{}'
        '<text class="tick" x="{}" y="{}" text-anchor="end">100%</text>'
        '<text class="tick" x="{}" y="{}">{}</text>'
        '<text class="tick" x="{}" y="{}" text-anchor="end">{}</text>',
        path,
        dots,
        LEFT - 3,
        TOP + 4,
        LEFT,
        H - BOTTOM + 14,
        points[0][0],
        W - RIGHT,
        H - BOTTOM + 14,
        points[-1][0],
    )
    desc = "; ".join(f"{label}: {value:.0%}" for label, value in points)
    return _frame(title, desc, body, testid, x_title=x_title, y_title=y_title)
