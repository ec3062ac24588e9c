"""search_api: the `policykb` command line (and, later, the HTTP service and web page)."""

from .views import clause_json, document_json, hit_json

__all__ = ["clause_json", "document_json", "hit_json"]
