"""The `newsbeam` command."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from pipeline import __version__

USAGE = """newsbeam COMMAND [options]

commands:
  run    --feeds FILE --output DIR [--once | --streaming] [--allow_address LIST]
         [any Beam pipeline option]      poll feeds and write one record per article
  demo   [--output DIR]                  serve the offline sample site and run on it
  query  --output DIR "SQL" [--format table|csv|json]
                                         SQL over articles, duplicates, dead_letters, entities
  report --output DIR [--html FILE]      one self-contained HTML page with charts and tables
  export-text --output DIR --to FOLDER   one text file per article (NNN_<fingerprint>.txt)
  eval   extraction|language|entities|dedup|all --data DIR [--json]
                                         score the stage code on evaluation data
  submit --topic TOPIC [--feed] URL...   publish article (or feed) URLs to a job's input topic
  bq-create-tables --bq_table PROJECT:DATASET.TABLE
                                         create the BigQuery dataset, tables and views
"""

# Commands that look at a run's output; each module has main(argv) -> exit code.
_VIEWERS = {
    "query": "pipeline.query",
    "report": "pipeline.report",
    "export-text": "pipeline.export_text",
}
# Commands for the Dataflow deployment (docs/DEPLOY.md); same main(argv) contract.
_GCP = {
    "submit": "pipeline.submit",
    "bq-create-tables": "pipeline.bigquery_setup",
}


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
    if command in _VIEWERS or command in _GCP:
        module = importlib.import_module({**_VIEWERS, **_GCP}[command])
        code: int = module.main(rest)
        return code
    if command == "eval":
        from pipeline.evaluate import main as evaluate

        return evaluate(rest)
    print(f"newsbeam: unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
