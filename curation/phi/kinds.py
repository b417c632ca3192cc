"""The identifier kinds the scanner reports. Light on purpose: pages and services import it without Presidio."""

from enum import StrEnum


class PhiKind(StrEnum):
    NAME = "NAME"
    ADDRESS = "ADDRESS"
    ZIP = "ZIP"
    DATE = "DATE"
    AGE = "AGE"
    PHONE = "PHONE"
    FAX = "FAX"
    EMAIL = "EMAIL"
    SSN = "SSN"
    MRN = "MRN"
    HEALTH_PLAN = "HEALTH_PLAN"
    ACCOUNT = "ACCOUNT"
    LICENSE = "LICENSE"
    VEHICLE = "VEHICLE"
    DEVICE = "DEVICE"
    URL = "URL"
    IP = "IP"


# Presidio entity names are the kinds' values.
PRESIDIO_KINDS = {kind.value: kind for kind in PhiKind}
