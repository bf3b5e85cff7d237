"""The direct keccak + coincurve voucher path against eth-account's EIP-712 signer, and its parsing
and refusal rules (which mirror OpenZeppelin's ECDSA in the contract)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from eth_account import Account as EthAccount
from eth_account.messages import _hash_eip191_message, encode_typed_data
from hypothesis import given, settings
from hypothesis import strategies as st

from chainpay import errors
from chainpay.content.vouchers import (
    CLOSE_TYPEHASH,
    VOUCHER_TYPEHASH,
    Domain,
    SignedVoucher,
    Signer,
    recover_address,
    signed_by,
)

keys = st.binary(min_size=32, max_size=32).filter(
    lambda k: 0 < int.from_bytes(k, "big") < 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141)
addresses = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
domains = st.builds(Domain, chain_id=st.integers(min_value=1, max_value=2**64), contract=addresses)
amounts = st.integers(min_value=0, max_value=2**256 - 1)
typehashes = st.sampled_from([VOUCHER_TYPEHASH, CLOSE_TYPEHASH])


@settings(max_examples=150, deadline=None)
@given(key=keys, domain=domains, channel_id=st.binary(min_size=32, max_size=32), amount=amounts, typehash=typehashes,
       deadline=amounts)
def test_direct_path_is_byte_identical_to_eth_account(key, domain, channel_id, amount, typehash, deadline):
    deadline = deadline if typehash == CLOSE_TYPEHASH else None  # only a close consent carries one
    typed = domain.typed_data(channel_id, amount, typehash, deadline)
    reference = EthAccount.sign_typed_data(key, *typed)
    ours = Signer(key, domain).sign(channel_id, amount, typehash, deadline)
    assert ours.signature == bytes(reference.signature)
    assert domain.digest(channel_id, amount, typehash, deadline) == _hash_eip191_message(encode_typed_data(*typed))
    signer = EthAccount.from_key(key).address
    assert recover_address(domain, ours, typehash) == signer
    assert EthAccount.recover_message(encode_typed_data(*typed), signature=ours.signature) == signer
    if deadline is not None:  # a consent is bound to its deadline
        assert not signed_by(domain, replace(ours, deadline=deadline ^ 1), signer, CLOSE_TYPEHASH)


@settings(max_examples=50, deadline=None)
@given(key=keys, domain=domains, channel_id=st.binary(min_size=32, max_size=32), amount=amounts)
def test_a_voucher_is_bound_to_its_channel_amount_contract_and_chain(key, domain, channel_id, amount):
    voucher = Signer(key, domain).sign(channel_id, amount)
    signer = EthAccount.from_key(key).address
    assert signed_by(domain, voucher, signer)
    other_id = bytes([channel_id[0] ^ 1]) + channel_id[1:]
    assert not signed_by(domain, replace(voucher, channel_id=other_id), signer)
    assert not signed_by(domain, replace(voucher, amount=amount ^ 1), signer)
    assert not signed_by(Domain(domain.chain_id + 1, domain.contract), voucher, signer)
    other_contract = "0x" + bytes([int(domain.contract[2:4], 16) ^ 1]).hex() + domain.contract[4:]
    assert not signed_by(Domain(domain.chain_id, other_contract), voucher, signer)
    assert not signed_by(domain, voucher, signer, CLOSE_TYPEHASH)  # a voucher is no close consent


def test_header_round_trip_and_malformed_headers():
    domain = Domain(1, "0x" + "11" * 20)
    voucher = Signer(b"\x01" * 32, domain).sign(b"\x02" * 32, 12345)
    assert SignedVoucher.from_header(voucher.to_header()) == voucher
    good = voucher.to_header()
    cid, amount, sig = good.split(":")
    for bad in ("", "abc", f"{cid}:{amount}", f"zz:{amount}:{sig}", f"{cid}:-5:{sig}", f"{cid}:1.5:{sig}",
                f"{cid}:{amount}:{sig[:-2]}", f"0x{'00' * 31}:{amount}:{sig}", f"{cid}:{2**256}:{sig}"):
        with pytest.raises(errors.InvalidInput):
            SignedVoucher.from_header(bad)


def test_signatures_the_contract_refuses_are_refused_here():
    domain = Domain(1, "0x" + "11" * 20)
    signer = Signer(b"\x03" * 32, domain)
    voucher = signer.sign(b"\x04" * 32, 7)
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    high_s = replace(voucher, signature=voucher.r + (n - int.from_bytes(voucher.s, "big")).to_bytes(32, "big")
                     + bytes([55 - voucher.v]))
    bad_v = replace(voucher, signature=voucher.signature[:64] + b"\x01")
    zero = replace(voucher, signature=bytes(65))
    for bad in (high_s, bad_v, zero):
        assert not signed_by(domain, bad, signer.address)
        with pytest.raises(errors.SigningError):
            recover_address(domain, bad)
    assert signed_by(domain, voucher, signer.address)


def test_bad_inputs_are_typed_errors():
    domain = Domain(1, "0x" + "11" * 20)
    signer = Signer(b"\x05" * 32, domain)
    for channel_id, amount in ((b"\x00" * 31, 1), ("00" * 32, 1), (b"\x00" * 32, -1), (b"\x00" * 32, 1.0),
                               (b"\x00" * 32, True), (b"\x00" * 32, 2**256)):
        with pytest.raises(errors.InvalidInput):
            signer.sign(channel_id, amount)
    with pytest.raises(errors.SigningError):
        Signer(b"\x00" * 31, domain)
    with pytest.raises(errors.InvalidInput):
        Domain(1, "0x1234").separator
