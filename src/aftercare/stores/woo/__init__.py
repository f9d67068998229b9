"""Everything that talks to a WooCommerce shop over HTTP (import-linter keeps it that way).

    from aftercare.stores.woo.client import WooClient
    from aftercare.stores.woo.errors import WooError

- `client.py`: `WooClient` (REST v3: discovery, GET, concurrent pagination, webhooks, retries)
- `oauth1.py`: OAuth 1.0a one-legged signing, needed on plain-http shops
- `pages.py`: `Page` and the bounded concurrent page fetcher
- `errors.py`: `WooError` and the plain-language messages for each failure
- `urls.py`, `responses.py`: URL normalising/redaction/signing base, reading answers
"""
