import { subtask } from "hardhat/config";
import {
  TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD,
  TASK_COMPILE_SOLIDITY_LOG_COMPILATION_ERRORS,
} from "hardhat/builtin-tasks/task-names";
import type { HardhatUserConfig, NetworkUserConfig } from "hardhat/types";
import "@nomicfoundation/hardhat-toolbox";

const SOLC_VERSION = "0.8.28";

// No network here but the package registries: compile with the npm `solc` package (solc-js)
// instead of letting Hardhat download a native compiler.
subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args: { solcVersion: string }, _hre, runSuper) => {
  if (args.solcVersion === SOLC_VERSION) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const solc = require("solc") as { version(): string };
    const longVersion = solc.version().replace(/\.Emscripten.*$/, "");
    return { compilerPath: require.resolve("solc/soljson.js"), isSolcJs: true, version: args.solcVersion, longVersion };
  }
  return runSuper();
});

/**
 * solc warns on every `tstore` in inline assembly (EIP-1153 composability), and says in the same text that a
 * reentrancy guard cleared at the end of the call is safe. The only `tstore` we compile is OpenZeppelin's
 * TransientSlot behind ReentrancyGuardTransient (MarginEngine, SettlementHub, CapitalPool, TrancheVault): that one
 * warning, from that one library file, is not printed. Every other warning, ours or a library's, still is (a warning
 * in our own code is a defect).
 */
const KNOWN_LIBRARY_WARNINGS = [
  { file: "@openzeppelin/contracts/utils/TransientSlot.sol", message: /^Transient storage as defined by EIP-1153/ },
];
interface SolcDiagnostic {
  severity: string;
  message: string;
  sourceLocation?: { file: string };
}
subtask(
  TASK_COMPILE_SOLIDITY_LOG_COMPILATION_ERRORS,
  async (args: { output?: { errors?: SolcDiagnostic[] }; quiet: boolean }, _hre, runSuper) => {
    const errors = args.output?.errors?.filter(
      (e) =>
        e.severity === "error" ||
        !KNOWN_LIBRARY_WARNINGS.some((k) => e.sourceLocation?.file === k.file && k.message.test(e.message)),
    );
    return runSuper({ ...args, output: args.output && { ...args.output, errors } });
  },
);

/**
 * The `permissioned` network (Hyperledger Besu QBFT / GoQuorum) is described by the environment only:
 * MB_RPC_URL, MB_CHAIN_ID, MB_DEPLOYER_KEY and optionally MB_GAS_PRICE (often 0 on such networks).
 */
function permissionedNetwork(): NetworkUserConfig {
  const key = process.env.MB_DEPLOYER_KEY;
  const gasPrice = process.env.MB_GAS_PRICE;
  return {
    url: process.env.MB_RPC_URL ?? "http://127.0.0.1:8545",
    chainId: process.env.MB_CHAIN_ID ? Number(process.env.MB_CHAIN_ID) : undefined,
    accounts: key ? [key] : [],
    ...(gasPrice !== undefined ? { gasPrice: Number(gasPrice) } : {}),
  };
}

/**
 * Files compiled through the IR pipeline. MarginEngine and the libraries that value accounts (withdraw and repay, the
 * trade legs): valuation and liquidation are mostly memory and stack work, which the IR optimizer cuts by ≈ 10,000 gas
 * per liquidation. The router, the pool and the KYC registry: every valuation quotes the router, every liquidation and
 * borrow accrues the pool and reads the KYC registry (≈ 2,500 gas per liquidation; docs/margin.md, Gas, round 7).
 * Only these files: solc-js takes ≈ 1 minute for each.
 */
const VIA_IR = [
  "margin/MarginEngine",
  "margin/MarginAccounts",
  "margin/MarginSettlement",
  "oracle/OracleRouter",
  "pool/CapitalPool",
  "identity/KycRegistry",
];

/** Optimizer runs where 200 is not the choice: the engine's hot paths against its EIP-170 headroom. */
const RUNS: Record<string, number> = { "margin/MarginEngine": 300 };

const config: HardhatUserConfig = {
  solidity: {
    compilers: [{ version: SOLC_VERSION, settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: "cancun" } }],
    overrides: Object.fromEntries(
      VIA_IR.map((name) => [
        `contracts/${name}.sol`,
        {
          version: SOLC_VERSION,
          settings: { optimizer: { enabled: true, runs: RUNS[name] ?? 200 }, evmVersion: "cancun", viaIR: true },
        },
      ]),
    ),
  },
  networks: {
    hardhat: { chainId: 31337 },
    localhost: { url: process.env.MB_LOCAL_RPC_URL ?? "http://127.0.0.1:8545", chainId: 31337 },
    permissioned: permissionedNetwork(),
  },
  typechain: { outDir: "typechain-types", target: "ethers-v6" },
  mocha: { timeout: 180_000 },
  gasReporter: { enabled: false },
};

export default config;
