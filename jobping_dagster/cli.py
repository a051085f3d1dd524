"""The `jobping` command: migrations, users, CSV import, status, and one local pass."""

from __future__ import annotations

import argparse
import dataclasses
import fcntl
import json
import os
import sys
import time
import warnings
from importlib import resources
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from jobping_dagster.companies.store import redrive_companies
from jobping_dagster.db.engine import (
    DatabaseUnavailable,
    create_app_engine,
    describe_url,
    get_engine,
    migrate,
    utcnow,
)
from jobping_dagster.matching.candidates import companies_chosen_for
from jobping_dagster.matching.pair_partitions import redrive_pairs
from jobping_dagster.notify.outbox import redrive
from jobping_dagster.postings.csv_import import read_jobspy_csv
from jobping_dagster.postings.model import SiteScrape, format_reasons
from jobping_dagster.postings.normalize import normalize_frame
from jobping_dagster.postings.store import save_raw_scrape, upsert_postings
from jobping_dagster.preflight import StartupError
from jobping_dagster.serve import ROLES, serve
from jobping_dagster.settings import InvalidConfiguration, Settings
from jobping_dagster.status import changed_since, status_counts, top_matches
from jobping_dagster.users.store import (
    UserChanges,
    add_user,
    get_user,
    list_users,
    remove_user,
    update_user,
)
from jobping_dagster.users.validation import InvalidSetting, mask_webhook


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Dagster flags the beta APIs JobPing relies on at every import; not news to a user.
    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    warnings.filterwarnings("ignore", category=dg.PreviewWarning)
    try:
        settings = Settings.from_env()
        return args.handler(args, settings)
    except (
        InvalidSetting,
        InvalidConfiguration,
        DatabaseUnavailable,
        StartupError,
        ValueError,
    ) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jobping", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    cmd = commands.add_parser("migrate", help="apply the app database migrations")
    cmd.set_defaults(handler=_migrate)

    cmd = commands.add_parser("users", help="add, list, update or remove users")
    user_commands = cmd.add_subparsers(required=True, metavar="ACTION")
    for action, handler in (("add", _users_add), ("update", _users_update)):
        sub = user_commands.add_parser(action, help=f"{action} a user")
        sub.add_argument("email")
        sub.add_argument(
            "--prompt", help="what the user is looking for, in their own words ('' clears)"
        )
        sub.add_argument("--min-score", help="notify at or above this score, 0-100 (default 70)")
        sub.add_argument("--discord-webhook", help="Discord webhook URL ('' removes it)")
        sub.set_defaults(handler=handler)
    sub = user_commands.add_parser("list", help="list users (webhooks masked)")
    sub.set_defaults(handler=_users_list)
    sub = user_commands.add_parser(
        "show", help="a user's settings and what JobPing understood of the prompt"
    )
    sub.add_argument("email")
    sub.set_defaults(handler=_users_show)
    sub = user_commands.add_parser("remove", help="remove a user with their matches")
    sub.add_argument("email")
    sub.set_defaults(handler=_users_remove)

    cmd = commands.add_parser("import-csv", help="load jobspy CSV exports into the jobs table")
    cmd.add_argument("paths", nargs="+", metavar="PATH")
    cmd.set_defaults(handler=_import_csv)

    cmd = commands.add_parser("status", help="counts of postings, companies, users, matches...")
    cmd.add_argument("--json", action="store_true", help="print JSON")
    cmd.set_defaults(handler=_status)

    cmd = commands.add_parser(
        "run-once", help="run the whole flow once, in this process, on today's scrape"
    )
    cmd.add_argument(
        "--no-demo-users",
        action="store_true",
        help="do not add the demo users when there are no users",
    )
    cmd.set_defaults(handler=_run_once)

    cmd = commands.add_parser(
        "matches", help="a user's best recent postings the pre-filter did not send to scoring"
    )
    cmd.add_argument("email")
    cmd.add_argument("--limit", type=int, default=10, help="how many (default 10)")
    cmd.add_argument("--score", action="store_true", help="score them now")
    cmd.set_defaults(handler=_matches)

    cmd = commands.add_parser(
        "rerun", help="score one user x job pair again now (re-adds its partition if needed)"
    )
    cmd.add_argument("key", help="pair key, u<user id>-j<job id>")
    cmd.set_defaults(handler=_rerun)

    cmd = commands.add_parser(
        "eval", help="backtest the pre-filter and the scorer on a labeled set"
    )
    cmd.add_argument("--jobs", required=True, type=Path, help="postings, JSON lines")
    cmd.add_argument("--prompts", required=True, type=Path, help="wishes, a JSON list")
    cmd.add_argument("--labels", required=True, type=Path, help="CSV job_key,prompt_id,score")
    cmd.add_argument(
        "--shadow-rate", type=float, help="override JOBPING_PREFILTER_SHADOW_RATE for this run"
    )
    cmd.add_argument(
        "--all-pairs",
        action="store_true",
        help="score every labeled pair, not only those the pre-filter keeps (measures the scorer)",
    )
    cmd.set_defaults(handler=_eval)

    cmd = commands.add_parser("notifications", help="re-drive notifications an operator fixed")
    note_commands = cmd.add_subparsers(required=True, metavar="ACTION")
    sub = note_commands.add_parser(
        "redrive", help="send failed, dead, unknown or retrying notifications again"
    )
    sub.add_argument(
        "--status",
        action="append",
        required=True,
        help="failed, dead, unknown or retry (repeatable); unknown ones may be posted twice",
    )
    sub.add_argument("--user", help="only this user's notifications (email)")
    sub.set_defaults(handler=_notifications_redrive)

    cmd = commands.add_parser(
        "redrive",
        help="try failed company research or pair scores again now (parked or cooling down)",
    )
    cmd.add_argument("what", choices=["companies", "matches"])
    cmd.add_argument(
        "--user", help="only this user's pairs, or the companies of this user's chosen postings"
    )
    cmd.set_defaults(handler=_redrive)

    cmd = commands.add_parser(
        "serve", help="check the production settings, then run one Dagster process"
    )
    cmd.add_argument("role", choices=ROLES)
    cmd.add_argument("--host", default="127.0.0.1", help="address to listen on")
    cmd.add_argument("--port", type=int, help="port (code server 4000, webserver 3000)")
    cmd.add_argument(
        "--workspace", default="deploy/workspace.yaml", help="workspace file (daemon, webserver)"
    )
    cmd.set_defaults(handler=_serve)

    cmd = commands.add_parser(
        "prod-local",
        help="run the code server, daemon and webserver on this machine until Ctrl-C",
    )
    cmd.add_argument("--run-dir", help="pid files and logs (default $JOBPING_HOME/prod)")
    cmd.add_argument("--host", default="127.0.0.1")
    cmd.add_argument("--code-server-port", type=int, default=4000)
    cmd.add_argument("--webserver-port", type=int, default=3000)
    cmd.add_argument("--workspace", default="deploy/workspace.yaml")
    cmd.add_argument(
        "--create-databases",
        action="store_true",
        help="create Dagster's and the app's PostgreSQL databases if they are missing",
    )
    cmd.set_defaults(handler=_prod_local)
    return parser


def _notifications_redrive(args, settings: Settings) -> int:
    with _engine(settings).begin() as conn:
        user_id = _user_id(conn, args.user)
        count = redrive(conn, args.status, user_id)
    print(f"{count} notifications back to pending: the notification sensor sends them next")
    return 0


def _redrive(args, settings: Settings) -> int:
    with _engine(settings).begin() as conn:
        user_id = _user_id(conn, args.user)
        if args.what == "matches":
            count = redrive_pairs(conn, utcnow(), user_id)
            print(f"{count} failed pairs due now: the fan-out sensor scores them on its next tick")
        else:
            keys = None if user_id is None else companies_chosen_for(conn, user_id)
            count = redrive_companies(conn, utcnow(), keys)
            print(f"{count} failed companies due now: the research sensor runs them next")
    return 0


def _user_id(conn: sa.Connection, email: str | None) -> int | None:
    if not email:
        return None
    found = get_user(conn, email.strip().lower())
    if found is None:
        raise ValueError(f"no user {email.strip().lower()}")
    return found.id


def _serve(args, _settings: Settings) -> int:
    return serve(args.role, args.host, args.port, args.workspace)


def _prod_local(args, settings: Settings) -> int:
    from jobping_dagster import prod_local

    return prod_local.run(
        run_dir=Path(args.run_dir) if args.run_dir else settings.home / "prod",
        host=args.host,
        code_server_port=args.code_server_port,
        webserver_port=args.webserver_port,
        workspace=args.workspace,
        create_databases=args.create_databases,
    )


def _engine(settings: Settings) -> sa.Engine:
    return get_engine(settings.database_url)


def _migrate(_args, settings: Settings) -> int:
    engine = create_app_engine(settings.database_url)
    try:
        before, after = migrate(engine)
    except sa.exc.OperationalError:
        raise DatabaseUnavailable(
            f"cannot reach the app database {describe_url(settings.database_url)} "
            "(JOBPING_DATABASE_URL)"
        ) from None
    print(f"app database {describe_url(settings.database_url)}: revision {before} -> {after}")
    return 0


def _changes(args) -> UserChanges:
    return UserChanges(
        prompt=args.prompt, min_score=args.min_score, discord_webhook=args.discord_webhook
    )


def _users_add(args, settings: Settings) -> int:
    with _engine(settings).begin() as conn:
        user_id = add_user(conn, args.email, _changes(args), settings.webhook_allowed_hosts)
    print(f"added user {user_id}: {args.email.strip().lower()}")
    return 0


def _users_update(args, settings: Settings) -> int:
    with _engine(settings).begin() as conn:
        update_user(conn, args.email, _changes(args), settings.webhook_allowed_hosts)
    print(f"updated {args.email.strip().lower()}")
    return 0


def _users_remove(args, settings: Settings) -> int:
    with _engine(settings).begin() as conn:
        remove_user(conn, args.email)
    print(f"removed {args.email.strip().lower()}")
    return 0


def _users_list(_args, settings: Settings) -> int:
    with _engine(settings).connect() as conn:
        rows = list_users(conn)
    if not rows:
        print("no users yet: add one with `jobping users add EMAIL --prompt '...'`")
    for user in rows:
        webhook = mask_webhook(user.discord_webhook_url) if user.discord_webhook_url else "-"
        if user.webhook_dead_at:
            webhook += " (dead: Discord answered 404)"
        prompt = (user.prompt or "(no prompt: not matched)").replace("\n", " ")
        print(f"{user.id:>4}  {user.email}  min {user.min_score}  discord {webhook}")
        print(f"      {prompt[:110]}{'…' if len(prompt) > 110 else ''}")
    return 0


def _definitions(settings: Settings) -> dg.Definitions:
    from jobping_dagster.definitions import build_definitions

    return build_definitions(settings)


def _users_show(args, settings: Settings) -> int:
    from jobping_dagster.matching import commands

    llm = _definitions(settings).resources["llm"]
    for line in commands.show_user(_engine(settings), llm, args.email.strip().lower()):
        print(line)
    return 0


def _matches(args, settings: Settings) -> int:
    from jobping_dagster.matching import commands

    if args.limit < 1:
        raise ValueError(f"--limit must be at least 1 (got {args.limit})")
    engine = _engine(settings)
    defs = _definitions(settings)
    email = args.email.strip().lower()
    user_id, pulled, lines = commands.pull_list(engine, defs.resources["llm"], email, args.limit)
    print("\n".join(lines))
    if args.score and pulled:
        with _dagster_instance(settings) as instance:
            print("\n".join(commands.score_now(engine, defs, instance, user_id, pulled)))
    return 0


def _rerun(args, settings: Settings) -> int:
    from jobping_dagster.matching import commands

    with _dagster_instance(settings) as instance:
        lines, ok = commands.rerun(_engine(settings), _definitions(settings), instance, args.key)
    print("\n".join(lines))
    return 0 if ok else 1


def _eval(args, settings: Settings) -> int:
    from jobping_dagster.matching.evaluation import evaluate, load_labeled_set, report_lines

    resources = _definitions(settings).resources
    llm = resources["llm"]
    config = resources["prefilter"].cascade_config()  # the configured pre-filter
    if args.shadow_rate is not None:
        config = dataclasses.replace(config, shadow_rate=args.shadow_rate)
    labeled = load_labeled_set(args.jobs, args.prompts, args.labels)
    figures = evaluate(
        labeled,
        config,
        llm.read_wishes,
        lambda job, prompt: llm.score(job, prompt, None),
        all_pairs=args.all_pairs,
        concurrency=llm.max_concurrency,
    )
    scorer = f"OpenAI {settings.openai_model}" if settings.openai_enabled else "local scorer"
    print("\n".join(report_lines(figures, scorer, config)))
    print(json.dumps(figures, sort_keys=True))
    return 0


def _import_csv(args, settings: Settings) -> int:
    engine = _engine(settings)
    now = utcnow()
    for path in args.paths:
        frame = read_jobspy_csv(path)
        result = normalize_frame(frame, today=now.date())
        with engine.begin() as conn:
            # Kept as a raw scrape of today, so today's partition can be rebuilt from it.
            save_raw_scrape(
                conn,
                day=now.date(),
                source=f"csv:{Path(path).name}"[:40],
                scrape=SiteScrape(site="csv", frame=frame),
                fetched_at=now,
            )
            stats = upsert_postings(conn, result.postings, day=now.date(), now=now)
        print(
            f"{path}: {result.rows_in} rows, {result.accepted} accepted "
            f"({stats.inserted} new, {stats.updated} already known), "
            f"{result.duplicates} duplicates, {result.rejected_total} rejected "
            f"({format_reasons(result.rejected)}); cleaned: {format_reasons(result.cleaned)}"
        )
    return 0


def _status(args, settings: Settings) -> int:
    with _engine(settings).connect() as conn:
        counts = status_counts(conn)
    if args.json:
        print(json.dumps(counts, indent=2))
        return 0
    print(f"app database     {describe_url(settings.database_url)}")
    print(f"postings         {counts['postings']}")
    print(
        f"companies        {counts['companies']} ({counts['companies_researched']} researched, "
        f"{counts['companies_failing']} failing, {counts['companies_parked']} parked)"
    )
    print(f"users            {counts['users']} ({counts['users_without_prompt']} without a prompt)")
    print(
        f"chosen pairs     {counts['pairs_chosen']} ({counts['pairs_waiting_for_a_partition']} "
        f"waiting for research or a run, {counts['live_pair_partitions']} live partitions)"
    )
    print(
        f"matches          {counts['matches']} ({counts['failed_pairs']} pairs failing, "
        f"{counts['parked_pairs']} parked: `jobping redrive` tries them again)"
    )
    by_status = ", ".join(f"{k} {v}" for k, v in sorted(counts["notifications_by_status"].items()))
    print(f"notifications    {counts['notifications']} ({by_status or 'none'})")
    print(f"pending outbox   {counts['pending_outbox']}")
    return 0


def _seed_demo_users(engine: sa.Engine, settings: Settings) -> int:
    with engine.begin() as conn:
        if list_users(conn):
            return 0
        demo = json.loads(
            resources.files("jobping_dagster.users").joinpath("sample_users.json").read_text()
        )
        for user in demo:
            add_user(
                conn,
                user["email"],
                UserChanges(prompt=user["prompt"] or "", min_score=user["min_score"]),
            )
    return len(demo)


def _dagster_instance(settings: Settings) -> dg.DagsterInstance:
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    # Without DAGSTER_HOME, run history still lands under JobPing's own folder.
    home = settings.home / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    # Dagster's SQLite storage stamps its schema version on first open without a lock: two
    # processes opening a fresh folder at once leave two version rows, and every later open
    # fails ("more than one head"). A file lock makes first opens take turns.
    with open(home / ".open.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return dg.DagsterInstance.from_config(str(home))


def _run_once(args, settings: Settings) -> int:
    from jobping_dagster.definitions import build_definitions
    from jobping_dagster.run_once import run_once

    started = time.monotonic()
    since = utcnow()
    engine = _engine(settings)
    seeded = 0 if args.no_demo_users else _seed_demo_users(engine, settings)
    if seeded:
        print(f"no users were configured: added {seeded} demo users (see `jobping users list`)")
    with _dagster_instance(settings) as instance:
        report = run_once(
            build_definitions(settings),
            instance,
            utcnow().date(),
            on_step=print,
            log_level="WARNING",
        )
    with engine.connect() as conn:
        changed = changed_since(conn, since)
        totals = status_counts(conn)
        best = top_matches(conn, since)
    _print_summary(settings, report, changed, totals, best, time.monotonic() - started)
    return 1 if report.failed_runs else 0


def _print_summary(settings, report, changed, totals, best, seconds: float) -> None:
    scorer = f"OpenAI {settings.openai_model}" if settings.openai_enabled else "local scorer"
    print()
    print(f"JobPing run summary ({seconds:.1f} s, {sum(report.runs.values())} runs, {scorer})")
    print(f"  postings        {changed['new_postings']} new today, {totals['postings']} stored")
    print(
        f"  companies       {changed['companies_researched']} researched, "
        f"{totals['companies_researched']} of {totals['companies']} with a fresh profile"
    )
    print(
        f"  users           {totals['users']} ({totals['users_without_prompt']} without a "
        "prompt: skipped)"
    )
    print(
        f"  matches         {changed['matches_scored']} scored, "
        f"{changed['high_score_matches']} at or above the user's threshold"
    )
    delivered = changed["notifications_delivered"]
    print(
        f"  notifications   {sum(delivered.values())} delivered "
        f"({', '.join(f'{k} {v}' for k, v in sorted(delivered.items())) or 'none'}), "
        f"{totals['pending_outbox']} waiting"
    )
    for row in best:
        job = f"{row.title} @ {row.company}"
        print(f"    {row.score:>3}  {row.email:<28} {job}  [{row.partition_key}]")
    for failure in report.failed_runs:
        print(f"  FAILED {failure}")


if __name__ == "__main__":
    sys.exit(main())
