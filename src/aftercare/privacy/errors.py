from enum import StrEnum


class PrivacyErrorCode(StrEnum):
    INVALID_EMAIL = "privacy_invalid_email"
