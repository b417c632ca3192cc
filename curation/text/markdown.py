from markdown_it import MarkdownIt

# CommonMark with raw HTML off: user text can format itself but never inject markup or scripts;
# markdown-it also refuses javascript:, vbscript: and data: links.
_renderer = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable("strikethrough")

_ALIGN_CLASSES = {"text-align:left": "align-left", "text-align:center": "align-center", "text-align:right": "num"}


def _cell_aligned_by_class(self, tokens, idx, options, env):
    """A table cell's alignment as a class, not a style attribute, which the Content-Security-Policy refuses."""
    token = tokens[idx]
    style = token.attrs.pop("style", None)
    if style in _ALIGN_CLASSES:
        token.attrSet("class", _ALIGN_CLASSES[style])
    return self.renderToken(tokens, idx, options, env)


for _rule in ("th_open", "td_open"):
    _renderer.add_render_rule(_rule, _cell_aligned_by_class)


def render_markdown(text: str) -> str:
    return _renderer.render(text or "")
