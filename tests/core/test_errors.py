"""Revert data -> typed Python exceptions, for every custom error any artifact declares."""

import json

import pytest
from eth_abi import encode
from eth_utils import keccak, to_checksum_address

from chainpay import errors
from chainpay.core.compiler import ARTIFACTS_DIR

SAMPLES = {
    "address": to_checksum_address("0x00000000000000000000000000000000000000aa"),
    "uint256": 12345,
    "uint64": 77,
    "uint48": 5,
    "uint32": 7,
    "uint8": 3,
    "uint16": 2000,
    "bytes32": b"\x11" * 32,
    "bool": True,
    "string": "why",
}


def _all_error_entries():
    seen = {}
    for path in sorted(ARTIFACTS_DIR.glob("*.json")):
        for entry in json.loads(path.read_text())["abi"]:
            if entry["type"] == "error":
                seen[entry["name"]] = entry
    return sorted(seen.values(), key=lambda e: e["name"])


ERROR_ENTRIES = _all_error_entries()


def test_the_artifacts_declare_the_errors_the_sdk_documents():
    names = {e["name"] for e in ERROR_ENTRIES}
    assert {"DailyLimitExceeded", "NotRegistered", "AddressFrozen", "IdentityFrozen", "AccessControlUnauthorizedAccount",
            "EnforcedPause", "ERC3009UsedAuthorization", "ERC2612InvalidSigner", "ERC20InsufficientBalance"} <= names


@pytest.mark.parametrize("entry", ERROR_ENTRIES, ids=lambda e: e["name"])
def test_every_custom_error_decodes_to_its_own_class_with_arguments(entry):
    types = [i["type"] for i in entry["inputs"]]
    values = [SAMPLES[t] for t in types]
    data = keccak(text=f"{entry['name']}({','.join(types)})")[:4] + encode(types, values)
    exc = errors.decode_revert(data, tx_hash="0xabc")
    cls = getattr(errors, entry["name"])
    assert type(exc) is cls and issubclass(cls, errors.ContractRevert)
    assert exc.tx_hash == "0xabc"
    for inp, value in zip(entry["inputs"], values):
        assert getattr(exc, inp["name"]) == value
    assert str(exc).startswith(entry["name"] + "(")


def test_snake_case_aliases_and_role_names_in_messages():
    role = keccak(text="ISSUER")
    data = errors.AccessControlUnauthorizedAccount.selector + encode(["address", "bytes32"], [SAMPLES["address"], role])
    exc = errors.decode_revert(data)
    assert exc.needed_role == exc.neededRole == role
    assert exc.account == SAMPLES["address"]
    assert "neededRole=ISSUER" in str(exc)


def test_panic_error_string_unknown_and_empty():
    panic = errors.decode_revert(keccak(text="Panic(uint256)")[:4] + encode(["uint256"], [0x11]))
    assert isinstance(panic, errors.Panic) and panic.code == 0x11
    reason = errors.decode_revert("0x" + (keccak(text="Error(string)")[:4] + encode(["string"], ["nope"])).hex())
    assert isinstance(reason, errors.RevertedWithReason) and reason.reason == "nope"
    unknown = errors.decode_revert(b"\xde\xad\xbe\xef")
    assert isinstance(unknown, errors.UnknownRevert) and unknown.data == "0xdeadbeef"
    assert isinstance(errors.decode_revert(b""), errors.TransactionFailed)
    truncated = errors.decode_revert(errors.NotRegistered.selector + b"\x00" * 5)
    assert isinstance(truncated, errors.UnknownRevert)


def test_two_errors_with_one_name_but_different_arguments_are_refused():
    clash = [{"type": "error", "name": "NotRegistered", "inputs": [{"name": "who", "type": "uint256"}]}]
    with pytest.raises(errors.CompilerError, match="two Solidity errors named NotRegistered"):
        errors.register_errors(clash)


def test_revert_class_lookup():
    assert errors.revert_class("DailyLimitExceeded") is errors.DailyLimitExceeded
    with pytest.raises(KeyError):
        errors.revert_class("NoSuchError")
