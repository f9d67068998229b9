"""The outbox: every message is a row, rendered and frozen, before anything is sent.

A `Message` holds the snapshot of what goes out (subject, text, HTML, headers), the channel and
recipient, where it came from (flow, step, or another module), and an idempotency key unique
per store: whoever asks for "the message of this step run" twice gets the first row back. The
sender (sender.py) claims queued rows under a lease, sends each over its channel and records
every try as a `SendAttempt` with the provider's answer. `Suppression` lists the addresses that
must get nothing (hard bounces, complaints, staff's own list); marketing consent lives on the
customer (customers.consent) and is checked again at send time.
"""

from __future__ import annotations

from django.db import models

from aftercare.customers.models import Customer
from aftercare.stores.models import Store


class ChannelKind(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    WEBHOOK = "webhook", "Webhook"


class Category(models.TextChoices):
    # Order and delivery updates, receipts: no consent needed, no cap, no quiet hours.
    TRANSACTIONAL = "transactional", "Transactional"
    # Everything else: consent, frequency cap, quiet hours, one-click unsubscribe.
    MARKETING = "marketing", "Marketing"


class MessageStatus(models.TextChoices):
    QUEUED = "queued", "Queued"  # waiting for its send time (next_attempt_at)
    SENDING = "sending", "Sending"  # claimed by a sender (lease in locked_until)
    SENT = "sent", "Sent"  # the provider accepted it
    FAILED = "failed", "Failed"  # permanently refused, or out of attempts
    SUPPRESSED = "suppressed", "Not sent"  # blocked at send time (reason in `reason`)
    CANCELLED = "cancelled", "Cancelled"


class Message(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="messages")
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    channel = models.CharField(max_length=10, choices=ChannelKind.choices)
    category = models.CharField(max_length=16, choices=Category.choices)
    # An email address, an E.164 phone number or an https URL (webhook).
    recipient = models.CharField(max_length=500)
    sender = models.CharField(max_length=300, blank=True)  # the From header for email
    reply_to = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)  # extra headers (List-Unsubscribe…)
    locale = models.CharField(max_length=10, blank=True)
    template_key = models.CharField(max_length=100, blank=True)
    # Where it came from. No foreign keys upward (flows sit above messaging): plain ids.
    flow_id = models.BigIntegerField(null=True, blank=True)
    step_id = models.BigIntegerField(null=True, blank=True)  # flows.ScheduledStep
    source = models.CharField(max_length=100, blank=True)  # "flow", "test", "staff", …
    # Marketing: the flow's topic (customers.topics), re-checked against the customer's
    # opt-outs at send time; "" = general.
    topic = models.CharField(max_length=32, blank=True, default="", db_default="")
    # Unique per store: asking twice for the message of one step run returns the first row.
    idempotency_key = models.CharField(max_length=200)
    # Tracking: the token in open-pixel and click URLs; links[i] is the i-th tracked target.
    tracking_token = models.CharField(max_length=32, blank=True)
    links = models.JSONField(default=list, blank=True)

    status = models.CharField(
        max_length=12, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    reason = models.CharField(max_length=200, blank=True)  # why suppressed / failed
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=8)
    next_attempt_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)
    lease_id = models.CharField(max_length=32, blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    first_opened_at = models.DateTimeField(null=True, blank=True)
    first_clicked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "idempotency_key"], name="message_unique_idempotency_key"
            ),
        ]
        indexes = [
            # The sender's claim: queued (or sending with an expired lease), oldest due first.
            models.Index(fields=["status", "next_attempt_at"], name="message_due_idx"),
            models.Index(fields=["store", "customer", "created_at"], name="message_customer_idx"),
            models.Index(fields=["store", "created_at"], name="message_store_idx"),
            models.Index(fields=["store", "flow_id", "created_at"], name="message_flow_idx"),
            models.Index(fields=["tracking_token"], name="message_tracking_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.recipient}: {self.subject or self.template_key}"


class AttemptOutcome(models.TextChoices):
    SENT = "sent", "Accepted"
    TEMPORARY = "temporary", "Temporary failure"  # retried with backoff
    PERMANENT = "permanent", "Permanent failure"  # the address is marked
    SUPPRESSED = "suppressed", "Not sent"  # blocked at send time


class SendAttempt(models.Model):
    """One try at sending a message, with what the provider answered (or why we did not try)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="send_attempts")
    attempted_at = models.DateTimeField()
    outcome = models.CharField(max_length=12, choices=AttemptOutcome.choices)
    answer = models.TextField(blank=True)  # "250 2.0.0 Ok: queued as …", "HTTP 429 …"
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["message", "attempted_at"], name="sendattempt_msg_idx")]

    def __str__(self) -> str:
        return f"{self.outcome} at {self.attempted_at:%Y-%m-%d %H:%M:%S}"


class SuppressionReason(models.TextChoices):
    HARD_BOUNCE = "hard_bounce", "Hard bounce"
    COMPLAINT = "complaint", "Spam complaint"
    MANUAL = "manual", "Added by staff"


class Suppression(models.Model):
    """An address that gets nothing at all on a channel, transactional mail included."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="suppressions")
    channel = models.CharField(max_length=10, choices=ChannelKind.choices)
    address = models.CharField(max_length=254)  # normalised: lower-case email, E.164 phone
    reason = models.CharField(max_length=16, choices=SuppressionReason.choices)
    detail = models.TextField(blank=True)  # the provider's answer, the report's text
    source = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "channel", "address"], name="suppression_unique_address"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.address} ({self.reason})"


class MessageTemplate(models.Model):
    """A store's own version of a template (`key` + `locale`). Without one, the shipped default
    under messaging/default_templates/ is used."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="message_templates")
    key = models.CharField(max_length=100)  # "thank-you", "review-request", …
    locale = models.CharField(max_length=10)
    channel = models.CharField(max_length=10, choices=ChannelKind.choices, default="email")
    subject = models.CharField(max_length=300, blank=True)
    preheader = models.CharField(max_length=300, blank=True)
    body = models.TextField()  # Markdown with {{ variables }} (rendering.py)
    updated_at = models.DateTimeField()
    updated_by = models.CharField(max_length=254, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "key", "locale", "channel"], name="template_unique_key_locale"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.locale}, {self.channel})"


class ContactThrottle(models.Model):
    """When a customer last got a marketing message on a channel: the frequency cap is one
    conditional UPDATE on this row, so two workers cannot both pass it."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=10, choices=ChannelKind.choices)
    last_marketing_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "channel"], name="contactthrottle_unique_customer_channel"
            ),
        ]

    def __str__(self) -> str:
        return f"customer {self.customer_id} {self.channel} at {self.last_marketing_at}"


class Attribution(models.Model):
    """An order credited to the message whose tracked click came last within the window."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    order_id = models.BigIntegerField()
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attributions")
    flow_id = models.BigIntegerField(null=True, blank=True)
    touch = models.CharField(max_length=8, default="click")  # "click" or "open" (opt-in)
    touched_at = models.DateTimeField()
    order_created_at = models.DateTimeField()
    amount = models.DecimalField(max_digits=14, decimal_places=4)
    currency = models.CharField(max_length=3)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "order_id"], name="attribution_unique_order"),
        ]
        indexes = [
            models.Index(
                fields=["store", "flow_id", "order_created_at"], name="attribution_flow_idx"
            )
        ]

    def __str__(self) -> str:
        return f"order {self.order_id} ← message {self.message_id}"
