"""The HTTP adapter of the webhook receiver: `POST /webhooks/woocommerce/<store-slug>/`."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from aftercare.ingest.webhooks.receiver import accept_delivery


@csrf_exempt  # authenticated by the HMAC signature, not a session
@require_POST
def woocommerce_webhook(request: HttpRequest, store_slug: str) -> HttpResponse:
    declared = request.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > settings.WEBHOOK_MAX_BODY_BYTES:
        # Refuse before reading the body into memory.
        return JsonResponse({"error": "payload_too_large"}, status=413)
    try:
        body_bytes = request.body
    except RequestDataTooBig:  # no Content-Length (chunked) and over the limit
        return JsonResponse({"error": "payload_too_large"}, status=413)
    receipt = accept_delivery(store_slug=store_slug, body=body_bytes, headers=request.headers)
    if receipt.status == 200 and receipt.message == "pong":
        return HttpResponse("", status=200)
    body: dict[str, object] = {"status": receipt.status, "message": receipt.message}
    if receipt.delivery_id is not None:
        body["delivery"] = receipt.delivery_id
    return JsonResponse(body, status=receipt.status)
