"""The `jobping` command: users, CSV import, status, one local pass, operator commands on
matches and notifications, and the production processes. Built with click; `main` returns
the exit status: 0, 1 when work failed, 2 for a usage or configuration error, which is
printed as one line naming the bad option, setting or field."""

from __future__ import annotations

import warnings

import click
import dagster as dg

from jobping_dagster.cli.flow import run_once_command
from jobping_dagster.cli.matches import evaluate, matches, rerun
from jobping_dagster.cli.postings import import_csv
from jobping_dagster.cli.production import api, prod_local, serve
from jobping_dagster.cli.redrive import notifications, redrive
from jobping_dagster.cli.stats import stats
from jobping_dagster.cli.status import migrate_command, status
from jobping_dagster.cli.users import users
from jobping_dagster.db.engine import DatabaseUnavailable
from jobping_dagster.preflight import StartupError
from jobping_dagster.settings import InvalidConfiguration
from jobping_dagster.users.validation import InvalidSetting

CONFIGURATION_ERROR = 2
# Raised with a message meant for the operator (it names the setting, field or file and
# never holds a secret): printed as is, without a traceback.
OPERATOR_ERRORS = (
    InvalidSetting,
    InvalidConfiguration,
    DatabaseUnavailable,
    StartupError,
    ValueError,
)


# Groups without a command fail with one line ("Missing command.") like every other usage
# error, rather than printing their help as an error.
@click.group(
    "jobping",
    no_args_is_help=False,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
def jobping() -> None:
    """JobPing: daily job postings matched against each user's own words."""


for command in (
    migrate_command,
    users,
    import_csv,
    status,
    stats,
    run_once_command,
    matches,
    rerun,
    evaluate,
    notifications,
    redrive,
    serve,
    prod_local,
    api,
):
    jobping.add_command(command)


def main(argv: list[str] | None = None) -> int:
    # Dagster flags the beta APIs JobPing relies on at every import; not news to a user.
    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    warnings.filterwarnings("ignore", category=dg.PreviewWarning)
    try:
        status = jobping.main(args=argv, prog_name="jobping", standalone_mode=False)
    except click.UsageError as error:
        where = f" (see `{error.ctx.command_path} --help`)" if error.ctx else ""
        return _fail(f"{error.format_message()}{where}", error.exit_code)
    except click.ClickException as error:
        return _fail(error.format_message(), error.exit_code)
    except click.Abort:
        return _fail("aborted", 1)
    except OPERATOR_ERRORS as error:
        return _fail(str(error), CONFIGURATION_ERROR)
    return status or 0


def _fail(message: str, status: int) -> int:
    click.echo(f"error: {message}", err=True)
    return status
