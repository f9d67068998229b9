"""The REST routes of `tests.woo_server.WooServer`: the index, collections with WooCommerce's
pagination and filters, single objects, refunds, system_status and webhooks CRUD."""

from __future__ import annotations

import copy
import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from tests import woo_server_auth as auth
from tests.woo_shop_data import stamp

if TYPE_CHECKING:
    from tests.woo_server import Request

Response = tuple[int, Any, dict[str, str]]

CRUD = {"orders", "products", "coupons"}  # WC_REST_CRUD_Controller: modified_after & co.
COLLECTIONS = {"orders", "customers", "products", "coupons", "products/reviews"}
DEFAULT_ORDER = {  # (orderby, order) when the request names none
    "customers": ("name", "asc"),
    "products/reviews": ("date_gmt", "desc"),
}
INVALID_ID = {
    "orders": "woocommerce_rest_shop_order_invalid_id",
    "customers": "woocommerce_rest_invalid_id",
    "products": "woocommerce_rest_product_invalid_id",
    "coupons": "woocommerce_rest_shop_coupon_invalid_id",
    "products/reviews": "woocommerce_rest_review_invalid_id",
    "webhooks": "woocommerce_rest_shop_webhook_invalid_id",
}
HOOKS = {
    "order.created": ["woocommerce_new_order"],
    "order.updated": ["woocommerce_update_order", "woocommerce_order_refunded"],
    "order.deleted": ["wp_trash_post", "woocommerce_trash_order"],
    "order.restored": ["untrashed_post", "woocommerce_untrash_order"],
    "customer.created": ["user_register", "woocommerce_created_customer"],
    "customer.updated": ["profile_update", "woocommerce_update_customer"],
    "customer.deleted": ["delete_user"],
    "product.created": ["woocommerce_process_product_meta", "woocommerce_new_product"],
    "product.updated": ["woocommerce_process_product_meta", "woocommerce_update_product"],
    "product.deleted": ["wp_trash_post"],
    "coupon.created": ["woocommerce_process_shop_coupon_meta", "woocommerce_new_coupon"],
    "coupon.updated": ["woocommerce_process_shop_coupon_meta", "woocommerce_update_coupon"],
    "coupon.deleted": ["wp_trash_post"],
}
NO_ROUTE = auth.error_body(
    "rest_no_route", "No route was found matching the URL and request method.", 404
)


def _invalid_param(name: str, message: str, code: str = "rest_out_of_bounds") -> Response:
    body = auth.error_body(
        "rest_invalid_param",
        f"Invalid parameter(s): {name}",
        400,
        params={name: message},
        details={name: {"code": code, "message": message, "data": None}},
    )
    return 400, body, {}


def _gmt(value: str) -> str | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC)
    return parsed.strftime("%Y-%m-%dT%H:%M:%S")


class ApiMixin:
    def respond(self, request: Request) -> Response:  # noqa: PLR0911 - a router
        route = request.route.rstrip("/") or "/"
        if route == "/":
            return 200, self._index(), {}
        if self.mode == "no_wc" or not route.startswith("/wc/v3/"):
            return 404, NO_ROUTE, {}
        path = route[len("/wc/v3/") :]
        parts = path.split("/")
        collection = path in COLLECTIONS or path == "webhooks" or path.endswith("/refunds")
        method, error = auth.authenticate(self, request)
        request.record.auth = method
        if error is None and not method:
            error = auth.anonymous_error(request.method, collection=collection)
        error = error or auth.permission_error(self.permissions, request.method)
        if error is not None:
            return 401, error, {}
        if path == "system_status" and request.method == "GET":
            return 200, self._system_status(request.query.get("_fields", "")), {}
        if path.startswith("webhooks"):
            return self._webhooks(request, parts)
        if request.method != "GET":
            return 404, NO_ROUTE, {}
        if path in COLLECTIONS:
            return self._list(request, path, self.data.collection(path))
        if len(parts) == 3 and parts[0] == "orders" and parts[2] == "refunds":
            if not parts[1].isdigit() or not self._find("orders", int(parts[1])):
                return (
                    404,
                    auth.error_body("woocommerce_rest_invalid_order_id", "Invalid order ID.", 404),
                    {},
                )
            return self._list(request, path, self.data.refunds.get(int(parts[1]), []))
        resource, _, object_id = path.rpartition("/")
        if resource in COLLECTIONS and object_id.isdigit():
            found = self._find(resource, int(object_id))
            if found is None:
                return 404, auth.error_body(INVALID_ID[resource], "Invalid ID.", 404), {}
            return 200, found, {}
        return 404, NO_ROUTE, {}

    # -- pieces -------------------------------------------------------------------------------

    def _index(self) -> dict[str, Any]:
        namespaces = ["oembed/1.0", "wp/v2", "wp-site-health/v1", "wp-block-editor/v1"]
        if self.mode != "no_wc":
            namespaces[1:1] = ["wc/v1", "wc/v2", "wc/v3", "wc/store/v1", "wc-analytics"]
        return {
            "name": "Aftercare Test Shop",
            "description": "Just another WordPress site",
            "url": self.home,
            "home": self.home,
            "gmt_offset": "0",
            "timezone_string": "",
            "namespaces": namespaces,
            "authentication": [],
            "routes": {},
        }

    def _system_status(self, fields: str) -> dict[str, Any]:
        status: dict[str, Any] = {
            "environment": {
                "home_url": self.home,
                "site_url": self.home,
                "version": self.wc_version,
                "wp_version": "6.8.8",
                "php_version": "8.2.0",
            },
            "database": {"wc_database_version": self.wc_version},
            "active_plugins": [],
            "settings": {"currency": "USD"},
            "security": {"secure_connection": self.tls},
        }
        wanted = {f.split(".")[0] for f in fields.split(",") if f}
        return {k: v for k, v in status.items() if k in wanted} if wanted else status

    def _find(self, resource: str, object_id: int) -> dict[str, Any] | None:
        return next((o for o in self.data.collection(resource) if o["id"] == object_id), None)

    def _list(self, request: Request, resource: str, items: list[dict[str, Any]]) -> Response:
        query = request.query
        try:
            per_page = int(query.get("per_page", "10"))
        except ValueError:
            return _invalid_param(
                "per_page", "per_page is not of type integer.", "rest_invalid_type"
            )
        if not 1 <= per_page <= 100:
            return _invalid_param(
                "per_page", "per_page must be between 1 (inclusive) and 100 (inclusive)"
            )
        try:
            page = int(query.get("page", "1"))
        except ValueError:
            return _invalid_param("page", "page is not of type integer.", "rest_invalid_type")
        if page < 1:
            return _invalid_param("page", "page must be greater than or equal to 1")
        selected = list(items)
        filters = [("after", "date_created_gmt", ">"), ("before", "date_created_gmt", "<")]
        if resource in CRUD:
            filters += [
                ("modified_after", "date_modified_gmt", ">"),
                ("modified_before", "date_modified_gmt", "<"),
            ]
        for name, field, op in filters:
            if query.get(name):
                bound = _gmt(query[name])
                if bound is None:
                    return _invalid_param(name, "Invalid date.", "rest_invalid_date")
                selected = [
                    o for o in selected if (o[field] > bound if op == ">" else o[field] < bound)
                ]
        if query.get("include"):
            wanted = [int(i) for i in query["include"].split(",") if i.strip().isdigit()]
            selected = [o for o in selected if o["id"] in wanted]
        orderby, order = DEFAULT_ORDER.get(resource, ("date", "desc"))
        orderby, order = query.get("orderby", orderby), query.get("order", order)
        field = {
            "date": "date_created_gmt",
            "date_gmt": "date_created_gmt",
            "registered_date": "date_created_gmt",
            "modified": "date_modified_gmt",
        }.get(orderby, "id")
        selected.sort(key=lambda o: (o.get(field) or o.get("date_created_gmt", ""), o["id"]))
        if order == "desc":
            selected.reverse()
        total = len(selected)
        total_pages = math.ceil(total / per_page)
        chunk = selected[(page - 1) * per_page : page * per_page]
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(total_pages)}
        plain = {k: v for k, v in query.items() if not k.startswith("oauth_")}
        links = []
        base = f"{self.home}/wp-json{request.route}"
        if page > 1:
            previous = min(page - 1, max(total_pages, 1))
            links.append(f'<{base}?{urlencode({**plain, "page": previous})}>; rel="prev"')
        if total_pages > page:
            links.append(f'<{base}?{urlencode({**plain, "page": page + 1})}>; rel="next"')
        if links:
            headers["Link"] = ", ".join(links)
        return 200, chunk, headers

    def _webhooks(self, request: Request, parts: list[str]) -> Response:  # noqa: PLR0911
        method = request.method
        if len(parts) == 1:
            if method == "GET":
                hooks = list(self.webhooks.values())
                status = request.query.get("status", "all")
                if status != "all":
                    hooks = [h for h in hooks if h["status"] == status]
                return self._list(request, "webhooks", hooks)
            if method == "POST":
                return self._create_webhook(request.body or {})
            return 404, NO_ROUTE, {}
        if len(parts) != 2 or not parts[1].isdigit():
            return 404, NO_ROUTE, {}
        hook = self.webhooks.get(int(parts[1]))
        if hook is None:
            return 404, auth.error_body(INVALID_ID["webhooks"], "Invalid ID.", 404), {}
        if method == "GET":
            return 200, hook, {}
        if method == "PUT":
            return self._update_webhook(hook, request.body or {})
        if method == "DELETE":
            if request.query.get("force") not in {"true", "1"}:
                body = auth.error_body(
                    "woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.", 501
                )
                return 501, body, {}
            with self.lock:
                del self.webhooks[hook["id"]]
                self.webhook_secrets.pop(hook["id"], None)
            return 200, hook, {}
        return 404, NO_ROUTE, {}

    def _create_webhook(self, body: dict[str, Any]) -> Response:
        missing = [name for name in ("topic", "delivery_url") if not body.get(name)]
        if missing:
            message = f"Missing parameter(s): {', '.join(missing)}"
            return (
                400,
                auth.error_body("rest_missing_callback_param", message, 400, params=missing),
                {},
            )
        resource, _, event = str(body["topic"]).partition(".")
        valid = resource in {"order", "customer", "product", "coupon"} and event in {
            "created",
            "updated",
            "deleted",
            "restored",
        }
        if not valid and not str(body["topic"]).startswith("action."):
            return (
                400,
                auth.error_body(
                    "woocommerce_rest_shop_webhook_invalid_topic",
                    "Webhook topic is required and must be valid.",
                    400,
                ),
                {},
            )
        with self.lock:
            self.webhook_posts.append(copy.deepcopy(body))
            webhook_id = max(self.webhooks, default=0) + 1
            now = stamp(datetime.now(UTC))
            hook = {
                "id": webhook_id,
                "name": body.get("name") or f"Webhook created on {now}",
                "status": body.get("status") or "active",
                "topic": body["topic"],
                "resource": resource,
                "event": event,
                "hooks": HOOKS.get(body["topic"], []),
                "delivery_url": body["delivery_url"],
                "date_created": now,
                "date_created_gmt": now,
                "date_modified": None,
                "date_modified_gmt": None,
                "_links": {
                    "self": [{"href": f"{self.home}/wp-json/wc/v3/webhooks/{webhook_id}"}],
                    "collection": [{"href": f"{self.home}/wp-json/wc/v3/webhooks"}],
                },
            }
            self.webhooks[webhook_id] = hook
            self.webhook_secrets[webhook_id] = str(body.get("secret") or "generated-by-wc")
        return 201, hook, {"Location": f"{self.home}/wp-json/wc/v3/webhooks/{webhook_id}"}

    def _update_webhook(self, hook: dict[str, Any], body: dict[str, Any]) -> Response:
        if "status" in body and body["status"] not in {"active", "paused", "disabled"}:
            return _invalid_param(
                "status", "status is not one of active, paused, and disabled.", "rest_not_in_enum"
            )
        with self.lock:
            for name in ("name", "status", "topic", "delivery_url"):
                if name in body:
                    hook[name] = body[name]
            if body.get("secret"):
                self.webhook_secrets[hook["id"]] = str(body["secret"])
            hook["date_modified"] = hook["date_modified_gmt"] = stamp(datetime.now(UTC))
        return 200, hook, {}
