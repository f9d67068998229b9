"""File imports of order history: NDJSON of WooCommerce REST v3 orders, or CSV in the generic
column set (docs/import-format.md).

    from aftercare.ingest.file_import import service as file_import
    run = file_import.import_orders(store=store, path=Path("orders.ndjson"))

Modules: `readers` (bytes → raw chunks with line numbers), `generic_columns` (CSV rows → the
WooCommerce order shape), `checks` (what an import rejects beyond `woo_mapping`), `parsing`
(chunks → records, optionally in worker processes), `service` (batches into the mirror).
Nothing here but `service` touches the database, so parsing can run in worker processes."""
