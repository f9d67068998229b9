"""Dashboard pages, one module per area. Each module lists its own `urlpatterns`; `urls.py`
mounts them all under /dashboard/ in the `dashboard` namespace."""
