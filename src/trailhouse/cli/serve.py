"""`trailhouse serve`: the dashboard and JSON API (uvicorn)."""

from __future__ import annotations

import click

from trailhouse.cli.main import lake_option
from trailhouse.lake import Lake


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=int)
@click.option(
    "--secure-cookies/--no-secure-cookies",
    default=None,
    help="Mark session cookies Secure (HTTPS only). Default: on unless --host is a loopback address.",
)
@lake_option
def serve(host: str, port: int, secure_cookies: bool | None, lake: str) -> None:
    """Serve the dashboard and API. Every request needs a token or a signed-in session."""
    import uvicorn

    from trailhouse.api.app import create_app, is_loopback
    from trailhouse.auth.store import AuthStore

    the_lake = Lake(lake)
    secure = (not is_loopback(host)) if secure_cookies is None else secure_cookies
    users = AuthStore(the_lake).snapshot().users
    if not users:
        click.echo(
            f"No users yet: nobody can sign in. Create the first administrator with\n"
            f"  trailhouse user add NAME --admin --lake {lake}",
            err=True,
        )
    click.echo(f"Trailhouse on http://{host}:{port}/ (lake {the_lake.root}); sign in with an API token.")
    uvicorn.run(
        create_app(the_lake, secure_cookies=secure),
        host=host,
        port=port,
        access_log=False,
        log_level="warning",
    )
