// chainpay's EDR host: one in-process EDR provider (the Rust EVM behind Hardhat) answering
// newline-delimited JSON-RPC on stdin, one answer line per request line, in order, on stdout.
// Started by chainpay/chain/edr.py; it exits when stdin closes (the Python side ended, however it
// ended) or when its parent process is gone, so it never outlives the Python process.
//
// Config (argv[2], JSON): keys (0x private keys of funded, EDR-signed accounts), balance (wei, decimal
// string), chainId, hardfork, blockGasLimit, genesisTime (seconds, optional).
// Beyond the standard methods, "chainpay_send" sends a transaction and returns
// {receipt, error}: the receipt of the mined transaction (a failed one is mined too, as on a node)
// and the node's error with its revert data, in one round trip.
"use strict";
const readline = require("readline");

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
  for (const key of cfg.keys) {
    const pub = edr.secp256k1PublicKeyFromSecretKey(Buffer.from(key.slice(2), "hex"));
    const address = Buffer.from(edr.keccak256(pub.subarray(1))).subarray(12);
    genesis.push({ address, balance: BigInt(cfg.balance) });
  }
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
    ownedAccounts: cfg.keys,
    precompileOverrides: [],
  };
  const logger = { enable: false, decodeConsoleLogInputsCallback: () => [], printLineCallback: () => {} };
  return ctx.createProvider(edr.L1_CHAIN_TYPE, config, logger, { subscriptionCallback: () => {} },
    new edr.ContractDecoder());
}

async function main() {
  const cfg = JSON.parse(process.argv[2]);
  const provider = await createProvider(cfg);
  const call = async (request) => {
    const data = (await provider.handleRequest(JSON.stringify(request))).data;
    return typeof data === "string" ? JSON.parse(data) : data;
  };
  const answer = async (request) => {
    if (request.method !== "chainpay_send") return call(request);
    const sent = await call({ jsonrpc: "2.0", id: 1, method: "eth_sendTransaction", params: request.params });
    const hash = sent.result !== undefined ? sent.result : sent.error && sent.error.data && sent.error.data.transactionHash;
    if (!hash) return { jsonrpc: "2.0", id: request.id, error: sent.error }; // refused before mining
    const receipt = await call({ jsonrpc: "2.0", id: 1, method: "eth_getTransactionReceipt", params: [hash] });
    return { jsonrpc: "2.0", id: request.id, result: { receipt: receipt.result, error: sent.error || null } };
  };
  let queue = Promise.resolve();
  const input = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  input.on("line", (line) => {
    queue = queue.then(async () => {
      let out;
      try {
        const request = JSON.parse(line);
        if (Array.isArray(request)) {
          out = [];
          for (const r of request) out.push(await answer(r)); // in order: each sees the state the previous left
        } else {
          out = await answer(request);
        }
      } catch (e) {
        out = { jsonrpc: "2.0", id: null, error: { code: -32603, message: "chainpay EDR host: " + String(e && e.message || e) } };
      }
      process.stdout.write(JSON.stringify(out) + "\n");
    });
  });
  input.on("close", () => queue.then(() => process.exit(0)));
  const parent = process.ppid;
  setInterval(() => { if (process.ppid !== parent) process.exit(0); }, 500).unref();
  process.stdout.write(JSON.stringify({ ready: true, client: (await call({ jsonrpc: "2.0", id: 1, method: "web3_clientVersion", params: [] })).result }) + "\n");
}

main().catch((e) => {
  process.stdout.write(JSON.stringify({ ready: false, error: String(e && e.stack || e) }) + "\n");
  process.exit(1);
});
