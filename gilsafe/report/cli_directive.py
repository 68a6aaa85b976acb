"""`.. gilsafe-cli:: lint` renders a subcommand's --help, so the reference cannot drift from the code."""

from __future__ import annotations

from docutils import nodes
from sphinx.util.docutils import SphinxDirective



class CliDirective(SphinxDirective):
    """``.. gilsafe-cli:: lint`` renders `gilsafe lint --help`: the reference cannot drift from the code."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        import contextlib
        import io

        from gilsafe.arguments import build_parser

        parser = build_parser()
        command = self.arguments[0]
        sub = parser if command == "gilsafe" else parser._subparsers._group_actions[0].choices[command]
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            sub.print_help()
        text = buffer.getvalue()
        return [nodes.literal_block(text, text, language="text")]
