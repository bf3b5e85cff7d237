"""Platform balances backed by reserve in the digital currency (contracts/platform): the second tier
of money between the central bank's currency and customers' wallets."""

from .client import FULL_RESERVE_BPS, Interconversion, PlatformInfo, Platforms, ratio_to_bps

__all__ = ["FULL_RESERVE_BPS", "Interconversion", "PlatformInfo", "Platforms", "ratio_to_bps"]
