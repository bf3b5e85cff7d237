"""Pay-per-use content: the catalogue (contracts/content), micropayment channels (contracts/channels),
EIP-712 vouchers, the provider's voucher store, the consumer and provider (``parties``) and the HTTP
paywall (``chainpay.content.paywall``, imported on demand: it pulls in starlette and uvicorn)."""

from .catalogue import Catalogue, Listing, UnitKind, split_units
from .channels import ChannelInfo, ChannelKey, Channels, ChannelState
from .parties import Accepted, ContentClient, ContentProvider, VoucherRefused, deploy_content
from .store import StoredChannel, VoucherStore
from .vouchers import Domain, SignedVoucher, Signer, recover, recover_address, signed_by

__all__ = ["Accepted", "Catalogue", "ChannelInfo", "ChannelKey", "ChannelState", "Channels", "ContentClient",
           "ContentProvider", "Domain", "Listing", "SignedVoucher", "Signer", "StoredChannel", "UnitKind",
           "VoucherRefused", "VoucherStore", "deploy_content", "recover", "recover_address", "signed_by",
           "split_units"]
