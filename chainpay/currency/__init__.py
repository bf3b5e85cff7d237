"""The permissioned digital currency's two contracts: the identity registry (contracts/access) and
the currency itself (contracts/token)."""

from .registry import (
                       CONTRACTS_INSTITUTION,
                       CONTRACTS_INSTITUTION_NAME,
                       MAX_TIER,
                       AccountInfo,
                       IdentityInfo,
                       IdentityLike,
                       InstitutionInfo,
                       Registry,
                       as_identity,
                       identity_id,
)
from .token import UNLIMITED, Authorization, Cancellation, Currency, Outflow, Permit, Signature, WalletClass

__all__ = ["CONTRACTS_INSTITUTION", "CONTRACTS_INSTITUTION_NAME", "MAX_TIER", "UNLIMITED", "AccountInfo",
           "Authorization", "Cancellation", "Currency", "IdentityInfo", "IdentityLike", "InstitutionInfo", "Outflow", "WalletClass",
           "Permit", "Registry", "Signature", "as_identity", "identity_id"]
