from labelhub.markdown import render_markdown


def test_markdown_renders_emphasis_lists_and_highlighted_code():
    html = render_markdown("**Box** every car:\n\n- one\n- two\n\n```python\nx = 1\n```")
    assert "<strong>Box</strong>" in html
    assert "<li>one</li>" in html
    assert 'class="codehilite"' in html
    assert "<span" in html  # Pygments tokens


def test_raw_html_and_scripts_are_escaped_not_rendered():
    html = render_markdown('<script>alert(1)</script> <img src=x onerror="alert(2)"> <b>x</b>')
    assert "<script" not in html
    assert "<img" not in html
    assert "onerror=" not in html or "&lt;img" in html
    assert "&lt;script&gt;" in html


def test_javascript_links_are_dropped_and_others_are_made_safe():
    html = render_markdown("[bad](javascript:alert(1)) and [good](https://example.com)")
    assert "javascript:" not in html
    assert 'href="https://example.com"' in html
    assert "noopener" in html
