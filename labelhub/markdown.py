"""Markdown from users and models, rendered to a safe subset of HTML.

Raw HTML in the source is escaped by the renderer and the output is cleaned again by nh3 against an
allow-list, so no script, style, event handler or ``javascript:`` link ever reaches a page.
Fenced code blocks are highlighted with Pygments CSS classes (``static/css/code.css``).
"""

import markdown as markdown_lib
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td", "span",
    "div", "del", "sup", "sub",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "span": {"class"},
    "div": {"class"},
    "code": {"class"},
}
EXTENSIONS = ["fenced_code", "codehilite", "tables", "sane_lists", "nl2br"]
EXTENSION_CONFIGS = {"codehilite": {"guess_lang": False, "css_class": "codehilite"}}


class _EscapeHtml(markdown_lib.Extension):
    """Treat raw HTML in the source as text, not markup."""

    def extendMarkdown(self, md: markdown_lib.Markdown) -> None:
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")


def render_markdown(text: str) -> SafeString:
    html = markdown_lib.markdown(
        text or "",
        extensions=[*EXTENSIONS, _EscapeHtml()],
        extension_configs=EXTENSION_CONFIGS,
        output_format="html",
    )
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(cleaned)  # noqa: S308 - cleaned by nh3 against the allow-list above
