"""One-click unsubscribe (RFC 8058): the target of the `List-Unsubscribe` URL of marketing mail.

    result = unsubscribe.one_click(token=token)     # InvalidLink (404) for a token not ours
    result.changed                                  # False when they had already unsubscribed

A mail provider POSTs `List-Unsubscribe=One-Click` to that URL on the customer's behalf, with
no cookie and no CSRF token: the signed preferences token (the one in the mail, see
`outbox._links`) is the only credential, and it names the store and the customer. It is read
like the portal's unsubscribe page reads it (portal.selectors.open_link, portal.services):

- an *expired* but authentic token still unsubscribes — an unsubscribe must work however old
  the mail is (RFC 8058 and the CAN-SPAM/GDPR expectation that "stop" always works);
- the store and the customer are looked up from the token's claims and must still exist and
  belong together (a customer erased under the GDPR has no consent left to change: 404);
- the change goes through `customers.consent.change_consent` (email, denied, with its source),
  which is idempotent: a second POST — providers retry — records nothing.

(The portal has its own copy of the look-up because it sits above messaging in the layers and
needs the order links too; this one needs only the customer.)
"""

from __future__ import annotations

from dataclasses import dataclass

from aftercare.core import signed_links
from aftercare.core.signed_links import ExpiredLink, InvalidLink, LinkClaims
from aftercare.customers import consent
from aftercare.customers import selectors as customer_selectors
from aftercare.customers.consent import ConsentChannel
from aftercare.customers.models import ConsentState, Customer
from aftercare.stores.models import Store

PREFERENCES_PURPOSE = "preferences"  # the purpose of the token in List-Unsubscribe
ONE_CLICK_SOURCE = "one_click_unsubscribe"  # the same source the portal records


@dataclass(frozen=True)
class Unsubscribed:
    store: Store
    customer: Customer
    changed: bool  # False: they were already unsubscribed (nothing recorded)


def _claims(token: str) -> LinkClaims:
    try:
        return signed_links.read_token(purpose=PREFERENCES_PURPOSE, token=token)
    except ExpiredLink as exc:
        return exc.claims  # authentic, only old: unsubscribing still works


def customer_for_token(*, token: str) -> tuple[Store, Customer]:
    """The store and customer a preferences token is for, expired or not; InvalidLink when it
    is not ours or they no longer exist together."""
    claims = _claims(token)
    store = Store.objects.filter(pk=claims.store_id).first()
    if store is None:
        raise InvalidLink
    # The id the link was made for, or the account it was merged into since.
    customer = customer_selectors.current_customer(store=store, customer_id=claims.customer_id)
    if customer is None or claims.subject_id != claims.customer_id:
        raise InvalidLink
    return store, customer


def one_click(*, token: str, source: str = ONE_CLICK_SOURCE) -> Unsubscribed:
    """Stop marketing email to the token's customer (idempotent)."""
    store, customer = customer_for_token(token=token)
    change = consent.change_consent(
        customer=customer, channel=ConsentChannel.EMAIL, state=ConsentState.DENIED, source=source
    )
    return Unsubscribed(store=store, customer=customer, changed=change is not None)
