from markdown_it import MarkdownIt

# CommonMark with raw HTML off: user text can format itself but never inject markup or scripts;
# markdown-it also refuses javascript:, vbscript: and data: links.
_renderer = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable("strikethrough")


def render_markdown(text: str) -> str:
    return _renderer.render(text or "")
