"""What every ``ctxapi`` command shares: its settings, or one clear line when they are wrong."""

from __future__ import annotations

import click

from ctxapi import config as configuration


def settings() -> configuration.Settings:
    """The environment's settings; a bad variable is a one-line error, not a traceback."""
    try:
        return configuration.from_env()
    except configuration.ConfigError as error:
        raise click.ClickException(str(error)) from None
