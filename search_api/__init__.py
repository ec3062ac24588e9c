"""search_api: the `policykb` command line, the HTTP service (`create_app`) and its web page."""

from .app import create_app
from .settings import Settings, get_settings
from .views import clause_json, document_json, hit_json

__all__ = ["Settings", "clause_json", "create_app", "document_json", "get_settings", "hit_json"]
