"""`jobping serve ROLE` and `jobping prod-local`: JobPing's production processes."""

from __future__ import annotations

from pathlib import Path

import click

from jobping_dagster.cli.context import with_settings
from jobping_dagster.prod_local import run as run_stack
from jobping_dagster.serve import ROLES
from jobping_dagster.serve import serve as serve_role
from jobping_dagster.settings import Settings


@click.command("serve")
@click.argument("role", type=click.Choice(ROLES))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, help="Port (code server 4000, webserver 3000).")
@click.option(
    "--workspace",
    default="deploy/workspace.yaml",
    show_default=True,
    help="Workspace file (daemon, webserver).",
)
def serve(role: str, host: str, port: int | None, workspace: str) -> int:
    """Check its settings, then become one Dagster process."""
    # No JobPing settings read here: the code server's own check reads and names them, and
    # the daemon and the webserver need none.
    return serve_role(role, host, port, workspace)


@click.command("prod-local")
@click.option("--run-dir", type=Path, help="Pid files and logs (default $JOBPING_HOME/prod).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--code-server-port", type=int, default=4000, show_default=True)
@click.option("--webserver-port", type=int, default=3000, show_default=True)
@click.option("--workspace", default="deploy/workspace.yaml", show_default=True)
@click.option(
    "--create-databases",
    is_flag=True,
    help="Create Dagster's and the app's PostgreSQL databases if they are missing.",
)
@with_settings
def prod_local(
    settings: Settings,
    run_dir: Path | None,
    host: str,
    code_server_port: int,
    webserver_port: int,
    workspace: str,
    create_databases: bool,
) -> int:
    """Code server, daemon and webserver here, until Ctrl-C."""
    return run_stack(
        run_dir=run_dir or settings.home / "prod",
        host=host,
        code_server_port=code_server_port,
        webserver_port=webserver_port,
        workspace=workspace,
        create_databases=create_databases,
    )
