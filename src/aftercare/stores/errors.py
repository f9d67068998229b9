from enum import StrEnum


class StoreErrorCode(StrEnum):
    SLUG_TAKEN = "store_slug_taken"
    INVALID_SLUG = "store_invalid_slug"
    UNKNOWN_STORE = "store_unknown"
    INVALID_EMAIL = "staff_invalid_email"
    INVALID_LANGUAGE = "staff_invalid_language"
    TOKEN_INVALID = "token_invalid"  # noqa: S105 - an error code
    WOO_UNREACHABLE = "woo_unreachable"
    WOO_UNAUTHORIZED = "woo_unauthorized"
    WOO_KEYS_READ_ONLY = "woo_keys_read_only"
    WOO_NOT_WOOCOMMERCE = "woo_not_woocommerce"
    WOO_REST_DISABLED = "woo_rest_disabled"
    WOO_BAD_RESPONSE = "woo_bad_response"
    WOO_SERVER_ERROR = "woo_server_error"
    WOO_NOT_CONNECTED = "woo_not_connected"
    WOO_INVALID_URL = "woo_invalid_url"
