// chainpay's EDR host: one in-process EDR provider (the Rust EVM behind Hardhat) answering
// newline-delimited JSON-RPC on stdin, one answer line per request line, in order, on stdout.
// Started by chainpay/chain/edr.py; it exits when stdin closes (the Python side ended, however it
// ended) or when its parent process is gone, so it never outlives the Python process.
//
// Config (argv[2], JSON): keys (0x private keys of funded, EDR-signed accounts), balance (wei, decimal
// string), chainId, hardfork, blockGasLimit, genesisTime (seconds, optional).
// Beyond the standard methods, "chainpay_send" sends a transaction and returns
// {receipt, error, timestamp}: the receipt of the mined transaction (a failed one is mined too, as on
// a node), the node's error with its revert data, and the timestamp of its block, in one round trip.
// The receipt is passed through as the provider's own JSON text (no parse and re-serialise here).
// A batch (a JSON array on one line) runs in order and skips what follows its first error.
//
// The funded accounts are impersonated rather than owned: EDR then executes a transaction from them
// without signing it and recovering its sender (secp256k1 was ~15 % of this process's CPU per
// transfer). Gas, state, events and errors are the same; only the transaction hashes differ from
// those of a signed transaction (nothing in chainpay compares hashes across engines).
"use strict";

let edr;
try {
  edr = require("@nomicfoundation/edr");
} catch (e) {
  process.stdout.write(JSON.stringify({ ready: false, error: "cannot load @nomicfoundation/edr: " + e.message }) + "\n");
  process.exit(3);
}

async function createProvider(cfg) {
  const ctx = new edr.EdrContext();
  await ctx.registerProviderFactory(edr.L1_CHAIN_TYPE, edr.l1ProviderFactory());
  const hardfork = cfg.hardfork || "prague";
  const genesis = edr.l1GenesisState(edr.l1HardforkFromString(hardfork));
  const addresses = cfg.keys.map((key) => {
    const pub = edr.secp256k1PublicKeyFromSecretKey(Buffer.from(key.slice(2), "hex"));
    return Buffer.from(edr.keccak256(pub.subarray(1))).subarray(12);
  });
  for (const address of addresses) genesis.push({ address, balance: BigInt(cfg.balance) });
  const gasLimit = BigInt(cfg.blockGasLimit);
  const network = { genesisBlockGasLimit: gasLimit };
  if (cfg.genesisTime) network.genesisBlockTime = BigInt(cfg.genesisTime);
  const config = {
    allowBlocksWithSameTimestamp: false,
    allowUnlimitedContractSize: false,
    bailOnCallFailure: true, // a reverted eth_call is an error carrying the revert data
    bailOnTransactionFailure: true, // a failed transaction is mined, and answered with its error
    chainId: BigInt(cfg.chainId),
    coinbase: Buffer.alloc(20),
    defaultTransactionGasLimit: 3000000n,
    genesisState: genesis,
    hardfork,
    initialBaseFeePerGas: 1000000000n,
    minGasPrice: 0n,
    mining: { autoMine: true, blockGasLimit: gasLimit, memPool: { order: edr.MineOrdering.Priority } },
    network,
    networkId: BigInt(cfg.chainId),
    observability: {},
    ownedAccounts: [], // impersonated below: no signing, no sender recovery
    precompileOverrides: [],
  };
  const logger = { enable: false, decodeConsoleLogInputsCallback: () => [], printLineCallback: () => {} };
  const provider = await ctx.createProvider(edr.L1_CHAIN_TYPE, config, logger, { subscriptionCallback: () => {} },
    new edr.ContractDecoder());
  for (const address of addresses) {
    const request = { jsonrpc: "2.0", id: 1, method: "hardhat_impersonateAccount", params: ["0x" + address.toString("hex")] };
    await provider.handleRequest(JSON.stringify(request));
  }
  return provider;
}

async function main() {
  const cfg = JSON.parse(process.argv[2]);
  const provider = await createProvider(cfg);
  const text = async (request) => { // the provider's answer as JSON text
    const data = (await provider.handleRequest(request)).data;
    return typeof data === "string" ? data : JSON.stringify(data);
  };
  const call = async (request) => JSON.parse(await text(JSON.stringify(request)));
  const answer = async (line) => { // one request line -> one answer line (JSON text)
    const request = JSON.parse(line);
    if (Array.isArray(request)) { // in order, each seeing the state the previous left; after an error the rest are skipped
      const out = [];
      let failed = false;
      for (const r of request) {
        const one = failed ? JSON.stringify({ jsonrpc: "2.0", id: r.id, error: { code: -32000, message: "skipped: an earlier request of this batch failed" } })
          : await answer(JSON.stringify(r));
        failed = failed || JSON.parse(one).error !== undefined;
        out.push(one);
      }
      return "[" + out.join(",") + "]";
    }
    if (request.method !== "chainpay_send") return text(line);
    request.method = "eth_sendTransaction";
    const sent = JSON.parse(await text(JSON.stringify(request)));
    const hash = sent.result !== undefined ? sent.result : sent.error && sent.error.data && sent.error.data.transactionHash;
    if (!hash) return JSON.stringify({ jsonrpc: "2.0", id: request.id, error: sent.error }); // refused before mining
    // The receipt and the new head's header, asked for together (nothing else runs in between): two
    // requests in flight cost about one, and the caller learns the chain's clock without asking again.
    const [receipt, head] = await Promise.all([
      text('{"jsonrpc":"2.0","id":1,"method":"eth_getTransactionReceipt","params":["' + hash + '"]}'),
      call({ jsonrpc: "2.0", id: 1, method: "eth_getBlockByNumber", params: ["latest", false] })]);
    return '{"jsonrpc":"2.0","id":' + JSON.stringify(request.id) + ',"result":{"error":' + JSON.stringify(sent.error || null) +
      ',"timestamp":"' + head.result.timestamp + '","receipt":' + receipt + "}}"; // receipt: the provider's whole answer
  };
  let queue = Promise.resolve();
  let pending = "";
  const onLine = (line) => {
    queue = queue.then(async () => {
      let out;
      try {
        out = await answer(line);
      } catch (e) {
        out = JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32603, message: "chainpay EDR host: " + String(e && e.message || e) } });
      }
      process.stdout.write(out + "\n");
    });
  };
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk) => {
    pending += chunk;
    let newline;
    while ((newline = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (line.trim()) onLine(line);
    }
  });
  process.stdin.on("end", () => queue.then(() => process.exit(0)));
  const parent = process.ppid;
  setInterval(() => { if (process.ppid !== parent) process.exit(0); }, 500).unref();
  process.stdout.write(JSON.stringify({ ready: true, client: (await call({ jsonrpc: "2.0", id: 1, method: "web3_clientVersion", params: [] })).result }) + "\n");
}

if (require.main === module) {
  main().catch((e) => {
    process.stdout.write(JSON.stringify({ ready: false, error: String(e && e.stack || e) }) + "\n");
    process.exit(1);
  });
} else {
  module.exports = { createProvider }; // tests/tools/edr_round_trip.py times the provider without the pipe
}
