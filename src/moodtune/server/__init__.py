"""``moodtune serve``: the web page and JSON API over the same library the CLI calls."""

from moodtune.server.app import create_app
from moodtune.server.settings import ServerSettings

__all__ = ["ServerSettings", "create_app"]
