"""Command line: `sgdclaims run CLAIM`, `sgdclaims costs`, `sgdclaims data fetch [NAME...]`,
`sgdclaims data list`, `sgdclaims report`, `sgdclaims readme [--write]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


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
    from sgdclaims.report.compare import moves_text
    from sgdclaims.report.store import SCHEMA, StoreError, load_results, rerender

    outdir = Path(args.report_dir)
    try:
        if args.compare or args.since:
            print(moves_text(load_results(outdir), args.compare, args.since, Path.cwd()), end="")
            return 0
        data, version = rerender(outdir)
    except (StoreError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not data["tests"]:
        print(
            f"error: no recorded claim results in {outdir}; run `pytest claims -m fast` first",
            file=sys.stderr,
        )
        return 2
    if version != SCHEMA:
        print(f"migrated {outdir / 'results.json'} from schema {version} to {SCHEMA}")
    print(f"wrote {outdir / 'index.html'}")
    return 0


def readme_blocks() -> dict[str, tuple[str, str, str]]:
    """The README's generated blocks: name -> (begin marker, end marker, text): the claims
    table from the specs, and the full-tier cost table from sgdclaims/costs.json."""
    from sgdclaims.claims import readme_table
    from sgdclaims.costtable import readme_block

    return {
        "claims": ("<!-- claims:begin -->\n", "\n<!-- claims:end -->", readme_table()),
        "costs": ("  <!-- costs:begin -->\n", "\n  <!-- costs:end -->", readme_block()),
    }


def _readme(args: argparse.Namespace) -> int:
    blocks = readme_blocks()
    if not args.write:
        print("\n\n".join(text for _, _, text in blocks.values()))
        return 0
    path = Path(args.path)
    text = path.read_text()
    for begin, end, block in blocks.values():
        if begin not in text or end not in text:
            print(
                f"error: {path} lacks the markers {begin.strip()} ... {end.strip()}",
                file=sys.stderr,
            )
            return 2
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + begin + block + end + tail
    path.write_text(text)
    print(f"wrote the claims and cost tables into {path}")
    return 0


EXECUTORS = ("local", "slurm", "submitit-local")


def _executor(args: argparse.Namespace, cache_root: Path) -> Any:
    """The executor the run's options ask for (None: in process); ValueError if impossible."""
    from sgdclaims.executors import ProcessExecutor, SubmititExecutor

    if args.executor == "local":
        return ProcessExecutor(args.jobs) if args.jobs > 1 else None
    extra = dict(item.split("=", 1) for item in args.slurm_arg)
    gpus = args.gpus_per_job if args.gpus_per_job is not None else int(args.device == "cuda")
    return SubmititExecutor(
        folder=(Path(args.log_dir) if args.log_dir else cache_root / "_jobs").resolve(),
        cluster="slurm" if args.executor == "slurm" else "local",
        partition=args.partition,
        gpus_per_job=gpus,
        cpus_per_task=args.cpus_per_task,
        timeout_min=args.time,
        mem_gb=args.mem,
        array=not args.no_array,
        slurm_extra=extra,
        poll_s=30.0 if args.executor == "slurm" else 0.5,
        device=args.device,
    )


def _run(args: argparse.Namespace) -> int:
    """`sgdclaims run`: check the input, compute the cases, print and record the verdicts."""
    from sgdclaims import claims
    from sgdclaims.cache import default_cache_root
    from sgdclaims.data.registry import resolve_data_root
    from sgdclaims.executors.claimrun import record, run_claim, table
    from sgdclaims.executors.cluster import ExecutorError, require_writable
    from sgdclaims.executors.devices import cuda_missing
    from sgdclaims.runner import RunContext

    def fail(message: str) -> int:
        print(f"error: {message}", file=sys.stderr)
        return 2

    try:
        claims.check_claim(args.claim)
        cases = claims.get(args.claim).cases
        datasets = args.dataset or cases.datasets(args.scale)
        for dataset in datasets:
            cases.config(args.scale, dataset)
        if any("=" not in item for item in args.slurm_arg):
            raise ValueError(f"--slurm-arg takes KEY=VALUE, got {args.slurm_arg}")
        cache_root = Path(args.cache_dir).expanduser() if args.cache_dir else default_cache_root()
        executor = _executor(args, cache_root)
    except ValueError as exc:
        return fail(str(exc))
    on_cluster = args.executor == "slurm"  # the jobs have the GPUs, not this login node
    if args.device == "cuda" and not on_cluster and (message := cuda_missing("--device cuda")):
        return fail(message)
    try:
        cache_root = require_writable(cache_root)
        if hasattr(executor, "check"):
            executor.check(cache_root)
    except ExecutorError as exc:
        return fail(str(exc))
    context = RunContext(
        data_root=resolve_data_root(args.data_root),
        device="cpu" if args.executor != "local" else args.device,  # jobs: their own device
        cache_root=cache_root,
        use_cache=not args.no_cache,
        progress=not args.quiet,
        executor=executor,
    )
    done = run_claim(args.claim, args.scale, datasets, context)
    if done.entries:
        checks = {c.name: c for c in claims.spec(args.claim).checks}
        print(table(done.entries, checks))
    if not args.no_record and (path := record(done, Path(args.report_dir), Path.cwd())):
        print(f"recorded in {path}")
    failed = any(e["verdict"] in ("failed", "error") for e in done.entries)
    return 1 if done.errors or failed else 0


def _add_run(sub: argparse._SubParsersAction) -> None:
    """The `run` subcommand's options."""
    run = sub.add_parser(
        "run",
        help="compute a claim (locally or on a cluster) and show its verdicts",
        description="Compute a claim's units through an executor, then print its statistics "
        "and verdicts and record them in the results store that `pytest claims` writes.",
    )
    run.add_argument("claim", help="claim id (`sgdclaims readme` lists them)")
    run.add_argument("--scale", choices=("fast", "full"), default="fast")
    run.add_argument("--dataset", action="append", help="data set(s) (default: every one)")
    run.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    run.add_argument(
        "--executor",
        choices=EXECUTORS,
        default="local",
        help="local (in process; --jobs N: N processes), slurm (submitit), "
        "submitit-local (submitit's local subprocess jobs, to check a setup)",
    )
    run.add_argument("--jobs", type=int, default=1, help="local: units in N parallel processes")
    run.add_argument(
        "--cache-dir",
        help="result cache, shared with the jobs "
        "(default: $SGDCLAIMS_CACHE, then ~/.cache/sgdclaims/results)",
    )
    run.add_argument("--data-root", default=None)
    run.add_argument("--no-cache", action="store_true", help="recompute every unit")
    run.add_argument("--report-dir", default="reports", help="the results store to record in")
    run.add_argument("--no-record", action="store_true", help="only print the table")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    slurm = run.add_argument_group("slurm")
    slurm.add_argument("--partition", help="default: the cluster's default partition")
    slurm.add_argument("--gpus-per-job", type=int, help="default: 1 with --device cuda, else 0")
    slurm.add_argument("--cpus-per-task", type=int, default=2)
    slurm.add_argument("--time", type=int, default=240, help="minutes per job")
    slurm.add_argument("--mem", type=float, help="GB per job")
    slurm.add_argument("--no-array", action="store_true", help="one job per unit, no array")
    slurm.add_argument(
        "--slurm-arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="more sbatch options, e.g. account=abc or qos=high",
    )
    slurm.add_argument("--log-dir", help="submitit's job files (default: <cache-dir>/_jobs)")
    run.set_defaults(func=_run)


def _new_claim(args: argparse.Namespace) -> int:
    """`sgdclaims new-claim ID`: a claim package from the template, its test, its registry line."""
    import sgdclaims
    from sgdclaims.scaffold import new_claim

    try:
        written = new_claim(args.claim, Path(sgdclaims.__file__).parent, Path(args.tests))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(f"wrote {path}" for path in written))
    print("next: docs/new_claim.md (what to fill in, what enters the cache key, how to run it)")
    return 0


def _precompute(args: argparse.Namespace) -> int:
    """`sgdclaims precompute`: every missing unit of every claim at a scale, N processes."""
    from sgdclaims.cache import default_cache_root
    from sgdclaims.data.registry import resolve_data_root
    from sgdclaims.executors.precompute import precompute
    from sgdclaims.runner import RunContext

    if args.jobs < 1:
        print(f"error: --jobs must be >= 1, got {args.jobs}", file=sys.stderr)
        return 2
    context = RunContext(
        data_root=resolve_data_root(args.data_root),
        cache_root=Path(args.cache_dir).expanduser() if args.cache_dir else default_cache_root(),
        progress=not args.quiet,
    )
    errors = precompute(
        args.scale, context, args.jobs, report_dir=Path(args.report_dir), names=args.claim
    )
    for error in errors:
        print(f"precompute: {error}", file=sys.stderr)
    return 0


def _costs(args: argparse.Namespace) -> int:
    """`sgdclaims costs`: (measure and) print the full-tier cost table."""
    from sgdclaims.costtable import load_costs, markdown_table
    from sgdclaims.data.registry import resolve_data_root
    from sgdclaims.executors.costs import measure_all
    from sgdclaims.executors.devices import cuda_missing

    if args.device == "cuda" and (message := cuda_missing("--device cuda")):
        print(f"error: {message}", file=sys.stderr)
        return 2
    errors: list[str] = []
    if args.measure is not None:
        root = resolve_data_root(args.data_root)
        log = lambda m: print(m, file=sys.stderr)  # noqa: E731
        _, errors = measure_all(args.measure or None, root, args.device, log=log)
        for message in errors:
            print(f"error: {message}", file=sys.stderr)
    print(markdown_table(load_costs()))
    return 1 if errors else 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `sgdclaims` command."""
    parser = argparse.ArgumentParser(prog="sgdclaims", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_run(sub)
    costs = sub.add_parser("costs", help="the full-tier cost table (units, steps, est. time)")
    costs.add_argument(
        "--measure",
        nargs="*",
        metavar="CLAIM",
        help="measure these claims' smoke steps first (none named: every one)",
    )
    costs.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    costs.add_argument("--data-root", default=None)
    costs.set_defaults(func=_costs)
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
    moved = report.add_mutually_exclusive_group()
    moved.add_argument(
        "--compare",
        metavar="REV",
        help="print only what moved since the runs at REV (a git revision, commit prefix or "
        "session id); renders nothing",
    )
    moved.add_argument(
        "--since",
        metavar="WHEN",
        help="print only what moved since WHEN (a date 2026-11-30, a time 2026-11-30T12:00 "
        "or a session id); renders nothing",
    )
    report.set_defaults(func=_report)
    readme = sub.add_parser(
        "readme", help="the README's claims and cost tables (specs, costs.json)"
    )
    readme.add_argument("--write", action="store_true", help="rewrite it in README.md")
    readme.add_argument("--path", default="README.md")
    readme.set_defaults(func=_readme)
    pre = sub.add_parser(
        "precompute",
        help="compute every claim's missing units in N processes, longest first",
        description="Fill the result cache for a scale with one queue of units over all "
        "claims (the claim tests then read them); failures are reported and left to the tests.",
    )
    pre.add_argument("claim", nargs="*", help="claim ids (default: all)")
    pre.add_argument("--scale", choices=("fast", "full"), default="fast")
    pre.add_argument("--jobs", type=int, default=2, help="processes (default 2)")
    pre.add_argument("--cache-dir", help="result cache (default: $SGDCLAIMS_CACHE, then ~/.cache)")
    pre.add_argument("--data-root", help="data sets (default: $SGDCLAIMS_DATA, then ~/.cache)")
    pre.add_argument("--report-dir", default="reports", help="last run's times order the jobs")
    pre.add_argument("--quiet", action="store_true", help="no progress bar")
    pre.set_defaults(func=_precompute)
    new = sub.add_parser(
        "new-claim",
        help="start a claim from the template (docs/new_claim.md)",
        description="Copy the claim template as sgdclaims/claims/ID, write claims/test_ID.py "
        "and add ID to the registry.",
    )
    new.add_argument("claim", help="the new claim's id, a lower-case identifier")
    new.add_argument("--tests", default="claims", help="the claim tests' folder (default: claims)")
    new.set_defaults(func=_new_claim)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `sgdclaims` console script."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
