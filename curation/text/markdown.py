from functools import cache

_ALIGN_CLASSES = {"text-align:left": "align-left", "text-align:center": "align-center", "text-align:right": "num"}


def _cell_aligned_by_class(self, tokens, idx, options, env):
    """A table cell's alignment as a class, not a style attribute, which the Content-Security-Policy refuses."""
    token = tokens[idx]
    style = token.attrs.pop("style", None)
    if style in _ALIGN_CLASSES:
        token.attrSet("class", _ALIGN_CLASSES[style])
    return self.renderToken(tokens, idx, options, env)


@cache
def _renderer():
    """Built at the first text rendered, not when the template tags load: every `manage.py check` loads them."""
    from markdown_it import MarkdownIt

    # CommonMark with raw HTML off: user text can format itself but never inject markup or scripts;
    # markdown-it also refuses javascript:, vbscript: and data: links.
    renderer = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable("strikethrough")
    for rule in ("th_open", "td_open"):
        renderer.add_render_rule(rule, _cell_aligned_by_class)
    return renderer


def render_markdown(text: str) -> str:
    return _renderer().render(text or "")
