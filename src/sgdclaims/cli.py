"""Command line: `sgdclaims data fetch [NAME...]`, `sgdclaims data list`, `sgdclaims report`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _data_fetch(args: argparse.Namespace) -> int:
    from sgdclaims.data.provision import DEFAULT_FETCH, FETCHERS, ProvisionError
    from sgdclaims.data.registry import resolve_data_root

    root = resolve_data_root(args.data_root)
    names = args.names or list(DEFAULT_FETCH)
    unknown = [n for n in names if n not in FETCHERS]
    if unknown:
        print(f"error: unknown data set(s) {unknown}; known: {sorted(FETCHERS)}", file=sys.stderr)
        return 2
    failed = 0
    for name in names:
        try:
            print(FETCHERS[name](root, log=lambda m: print(m, file=sys.stderr)))
        except ProvisionError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


def _data_list(args: argparse.Namespace) -> int:
    from sgdclaims.data.registry import LOADERS, DatasetMissing, load, resolve_data_root

    root = resolve_data_root(args.data_root)
    print(f"data root: {root}")
    for name in sorted(LOADERS):
        try:
            info = load(name, root).info
            print(
                f"  {name:14s} {info.display}: {info.n_train} train / {info.n_test} test "
                f"({info.source})"
            )
        except DatasetMissing as exc:
            print(f"  {name:14s} missing: {exc}")
        except ValueError as exc:
            print(f"  {name:14s} unreadable: {exc}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from sgdclaims.report.render import render_all
    from sgdclaims.report.store import load_results

    outdir = Path(args.report_dir)
    try:
        data = load_results(outdir)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not data["tests"]:
        print(
            f"error: no recorded claim results in {outdir}; run `pytest claims -m fast` first",
            file=sys.stderr,
        )
        return 2
    render_all(data, outdir)
    print(f"wrote {outdir / 'index.html'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `sgdclaims` command."""
    parser = argparse.ArgumentParser(prog="sgdclaims", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    data = sub.add_parser("data", help="provide or list data sets").add_subparsers(
        dest="action", required=True
    )
    fetch = data.add_parser(
        "fetch", help="provide data sets offline (default: fashion_mnist mnist)"
    )
    fetch.add_argument("names", nargs="*", help="data set names (`sgdclaims data list` shows them)")
    fetch.add_argument("--data-root", default=None)
    fetch.set_defaults(func=_data_fetch)
    listing = data.add_parser("list", help="what is at the data root")
    listing.add_argument("--data-root", default=None)
    listing.set_defaults(func=_data_list)
    report = sub.add_parser("report", help="re-render reports/ from the recorded JSON")
    report.add_argument("--report-dir", default="reports")
    report.set_defaults(func=_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `sgdclaims` console script."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
