"""The `newsbeam` command."""

from __future__ import annotations

import argparse
import logging
import sys

from pipeline import __version__

USAGE = """newsbeam COMMAND [options]

commands:
  run    --feeds FILE --output DIR [--once | --streaming] [--allow_address LIST]
         [any Beam pipeline option]      poll feeds and write one record per article
  demo   [--output DIR]                  serve the offline sample site and run on it
"""


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not args or args[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if args else 1
    command, rest = args[0], args[1:]
    if command == "--version":
        print(f"newsbeam {__version__}")
        return 0
    if command == "run":
        if any(a in ("-h", "--help") for a in rest):
            from pipeline.options import NewsbeamOptions

            parser = argparse.ArgumentParser(prog="newsbeam run")
            NewsbeamOptions._add_argparse_args(parser)
            parser.print_help()
            return 0
        from pipeline.run import run

        return run(rest)
    if command == "demo":
        from pipeline.demo import demo

        return demo(rest)
    print(f"newsbeam: unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
