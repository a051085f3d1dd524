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
@click.option("--port", type=int, help="Port (code server 4000, webserver 3000, api 8000).")
@click.option(
    "--workspace",
    default="deploy/workspace.yaml",
    show_default=True,
    help="Workspace file (daemon, webserver).",
)
def serve(role: str, host: str, port: int | None, workspace: str) -> int:
    """Check its settings, then become one production process (Dagster's, or the API)."""
    # No JobPing settings read here: the code server's own check reads and names them, and
    # the daemon and the webserver need none.
    return serve_role(role, host, port, workspace)


@click.command("api")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8000, show_default=True)
@with_settings
def api(settings: Settings, host: str, port: int) -> None:
    """The web page and the seekers' API on the embedded default (`make dev` starts it)."""
    import uvicorn

    from jobping_dagster.api.app import create_app

    click.echo(f"JobPing's web page and API: http://{host}:{port}/ (OpenAPI at /docs)")
    uvicorn.run(create_app(settings), host=host, port=port, server_header=False)


@click.command("prod-local")
@click.option("--run-dir", type=Path, help="Pid files and logs (default $JOBPING_HOME/prod).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--code-server-port", type=int, default=4000, show_default=True)
@click.option("--webserver-port", type=int, default=3000, show_default=True)
@click.option("--api-port", type=int, default=8000, show_default=True)
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
    api_port: int,
    workspace: str,
    create_databases: bool,
) -> int:
    """Code server, daemon, webserver and the API here, until Ctrl-C."""
    return run_stack(
        run_dir=run_dir or settings.home / "prod",
        host=host,
        code_server_port=code_server_port,
        webserver_port=webserver_port,
        api_port=api_port,
        workspace=workspace,
        create_databases=create_databases,
    )
