/* global document, sessionStorage, FileReader */
// A reserve proof checked in the browser: encoding v1 of docs/reserves.md recomputed with ethers' keccak256, then
// the ReserveLedger read and its verifyInclusion view called over a JSON-RPC URL the auditor chooses.
import {
  AbiCoder,
  Contract,
  JsonRpcProvider,
  Network,
  concat,
  keccak256,
  toBeHex,
  toUtf8Bytes,
  zeroPadValue,
} from "./vendor/ethers.min.js";
import { apiGet, el } from "./common.js";
import { applyI18n, t } from "./i18n.js";

applyI18n();

const SNAPSHOT_DOMAIN = "MarginBridge.PoR.v1";
const MAX_UINT128 = (1n << 128n) - 1n;
const LEDGER_ABI = [
  "function getEpoch(uint64 epoch) view returns (tuple(bytes32 root, bytes32 snapshotId, bytes32 dataHash, bytes32 plainRoot, uint64 snapshotBlock, uint64 leafCount, uint64 publishedAt, uint8 depth, uint16 encodingVersion, address[] assets, uint256[] liabilities, uint256[] debt, uint256[] reserves, string uri))",
  "function verifyInclusion(uint64 epoch, tuple(bytes32 accountCommitment, uint256 index, uint256[] owed, uint256[] debt, bytes32[] siblingHashes, uint256[] siblingSums) proof) view returns (bytes32)",
  "error ReserveValueOutOfRange(uint256 value)",
  "error ReserveSumOverflow(uint256 slot, uint256 sum)",
  "error ReserveUnknownEpoch(uint64 epoch)",
  "error ReserveProofLengthMismatch(uint256 given, uint256 expected)",
  "error ReserveIndexOutOfRange(uint256 index, uint8 depth)",
  "error ReserveRootMismatch(bytes32 computed, bytes32 expected)",
  "error ReserveTotalsMismatch(uint256 slot, uint256 computed, uint256 published)",
  "error ReserveAssetCountMismatch(uint256 given, uint256 expected)",
];

// ---- encoding v1 (docs/reserves.md) ----

const u128 = (v) => zeroPadValue(toBeHex(v), 16);
const sumsBytes = (owed, debt) => [...owed.map(u128), ...debt.map(u128)];

function snapshotId(chainId, ledger, epoch, snapshotBlock) {
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ["string", "uint256", "address", "uint256", "uint256"],
      [SNAPSHOT_DOMAIN, chainId, ledger, epoch, snapshotBlock],
    ),
  );
}

function commitment(sid, secret, accountId) {
  return keccak256(concat([new Uint8Array([0x03]), sid, secret, toUtf8Bytes(accountId)]));
}

function leafHash(sid, accountCommitment, owed, debt) {
  return keccak256(concat([new Uint8Array([0x00]), sid, accountCommitment, ...sumsBytes(owed, debt)]));
}

function nodeHash(leftHash, left, rightHash, right) {
  return keccak256(
    concat([
      new Uint8Array([0x01]),
      leftHash,
      ...sumsBytes(left.owed, left.debt),
      rightHash,
      ...sumsBytes(right.owed, right.debt),
    ]),
  );
}

function uint128(text, what) {
  if (typeof text !== "string" || !/^[0-9]+$/.test(text)) throw new Error(`${what} is not a non-negative integer`);
  const v = BigInt(text);
  if (v > MAX_UINT128) throw new Error(`${what} exceeds 2^128 − 1`);
  return v;
}

/** Steps 1–4 of the proof check: the leaf, then each level with the sibling's hash and sums, to the root and totals. */
function recomputeRoot(file, sid) {
  const k = file.liabilities.length;
  if (file.leaf.owed.length !== k || file.leaf.debt.length !== k)
    throw new Error("leaf asset count differs from the totals'");
  if (file.siblings.length !== file.depth) throw new Error(`${file.siblings.length} siblings for depth ${file.depth}`);
  if (!Number.isInteger(file.leaf.index) || file.leaf.index < 0 || file.leaf.index >= 2 ** file.depth)
    throw new Error("leaf index outside the tree");
  let sums = {
    owed: file.leaf.owed.map((v, i) => uint128(v, `leaf owed[${i}]`)),
    debt: file.leaf.debt.map((v, i) => uint128(v, `leaf debt[${i}]`)),
  };
  const leaf = leafHash(sid, file.account.commitment, sums.owed, sums.debt);
  let hash = leaf;
  file.siblings.forEach((s, l) => {
    if (s.owed.length !== k || s.debt.length !== k) throw new Error(`sibling ${l} asset count differs`);
    const sib = {
      owed: s.owed.map((v, i) => uint128(v, `sibling ${l} owed[${i}]`)),
      debt: s.debt.map((v, i) => uint128(v, `sibling ${l} debt[${i}]`)),
    };
    const right = Math.floor(file.leaf.index / 2 ** l) % 2 === 1;
    hash = right ? nodeHash(s.hash, sib, hash, sums) : nodeHash(hash, sums, s.hash, sib);
    const add = (a, b, kind) =>
      a.map((v, i) => {
        const x = v + b[i];
        if (x > MAX_UINT128) throw new Error(`${kind}[${i}] sum exceeds 2^128 − 1 at level ${l}`);
        return x;
      });
    sums = { owed: add(sums.owed, sib.owed, "owed"), debt: add(sums.debt, sib.debt, "debt") };
  });
  return { leaf, root: hash, sums };
}

function contractProof(file) {
  return {
    accountCommitment: file.account.commitment,
    index: BigInt(file.leaf.index),
    owed: file.leaf.owed.map(BigInt),
    debt: file.leaf.debt.map(BigInt),
    siblingHashes: file.siblings.map((s) => s.hash),
    siblingSums: file.siblings.flatMap((s) => [...s.owed, ...s.debt].map(BigInt)),
  };
}

function checkShape(file) {
  const need = [
    "chainId",
    "ledger",
    "epoch",
    "snapshotBlock",
    "snapshotId",
    "root",
    "depth",
    "liabilities",
    "debt",
    "account",
    "leaf",
    "siblings",
  ];
  if (file?.format !== "marginbridge-por-proof") throw new Error('format is not "marginbridge-por-proof"');
  if (file.encodingVersion !== 1) throw new Error(`encoding version ${file.encodingVersion} is not 1`);
  const missing = need.filter((k) => file[k] === undefined);
  if (missing.length) throw new Error(`missing ${missing.join(", ")}`);
}

const sameList = (a, b) => a.length === b.length && a.every((v, i) => BigInt(v) === BigInt(b[i]));
const eqHex = (a, b) => String(a).toLowerCase() === String(b).toLowerCase();

/** Runs every check; each is {name, ok, detail}. Later checks still run after a failure where they can. */
export async function verifyProof(file, { rpcUrl, expectedLedger }) {
  const checks = [];
  const check = (name, ok, detail) => checks.push({ name, ok, detail });
  try {
    checkShape(file);
    check(
      t("auditor.check.format"),
      true,
      `epoch ${file.epoch}, depth ${file.depth}, ${file.liabilities.length} assets`,
    );
  } catch (err) {
    check(t("auditor.check.format"), false, err.message);
    return checks;
  }
  const sid = snapshotId(BigInt(file.chainId), file.ledger, BigInt(file.epoch), BigInt(file.snapshotBlock));
  check(t("auditor.check.snapshot"), eqHex(sid, file.snapshotId), sid);
  const c = commitment(sid, file.account.secret, file.account.accountId);
  check(t("auditor.check.commitment"), eqHex(c, file.account.commitment), `${file.account.accountId} → ${c}`);
  let computed;
  try {
    computed = recomputeRoot(file, sid);
    check(t("auditor.check.path"), eqHex(computed.root, file.root), computed.root);
    check(
      t("auditor.check.sums"),
      sameList(computed.sums.owed, file.liabilities) && sameList(computed.sums.debt, file.debt),
      `liabilities ${computed.sums.owed.join(", ")} · debt ${computed.sums.debt.join(", ")}`,
    );
  } catch (err) {
    check(t("auditor.check.path"), false, err.message);
  }
  if (expectedLedger) check(t("auditor.check.ledger"), eqHex(expectedLedger, file.ledger), file.ledger);

  // The proof's chain is assumed only to build requests; the node's own eth_chainId is then compared with it.
  const network = Network.from(BigInt(file.chainId));
  const provider = new JsonRpcProvider(rpcUrl, network, { staticNetwork: network });
  try {
    const rpcChain = BigInt(await provider.send("eth_chainId", []));
    check(t("auditor.check.chainId"), rpcChain === BigInt(file.chainId), `RPC chain ${rpcChain}`);
    const ledger = new Contract(file.ledger, LEDGER_ABI, provider);
    const epoch = await ledger.getEpoch(BigInt(file.epoch));
    check(t("auditor.check.root"), Boolean(computed) && eqHex(epoch.root, computed.root), epoch.root);
    check(t("auditor.check.sid"), eqHex(epoch.snapshotId, sid), epoch.snapshotId);
    check(
      t("auditor.check.totals"),
      Boolean(computed) && sameList(epoch.liabilities, computed.sums.owed) && sameList(epoch.debt, computed.sums.debt),
      `liabilities ${epoch.liabilities.join(", ")} · debt ${epoch.debt.join(", ")}`,
    );
    try {
      const leaf = await ledger.verifyInclusion(BigInt(file.epoch), contractProof(file));
      check(t("auditor.check.inclusion"), !computed || eqHex(leaf, computed.leaf), `leaf ${leaf}`);
    } catch (err) {
      const reason = err?.revert
        ? `${err.revert.name}(${err.revert.args.join(", ")})`
        : (err?.shortMessage ?? err?.message);
      check(t("auditor.check.inclusion"), false, t("auditor.reverted", { reason }));
    }
  } catch (err) {
    check(t("auditor.check.read"), false, err?.shortMessage ?? err?.message ?? String(err));
  } finally {
    provider.destroy();
  }
  return checks;
}

function show(checks) {
  const pass = checks.length > 0 && checks.every((c) => c.ok);
  const verdict = document.getElementById("verdict");
  verdict.hidden = false;
  verdict.className = `verdict ${pass ? "pass" : "fail"}`;
  verdict.textContent = t(pass ? "auditor.pass" : "auditor.fail");
  const table = document.getElementById("checks");
  table.hidden = false;
  table
    .querySelector("tbody")
    .replaceChildren(
      ...checks.map((c) =>
        el(
          "tr",
          {},
          el("td", {}, c.name),
          el("td", { class: c.ok ? "pass" : "fail" }, t(c.ok ? "auditor.ok" : "auditor.bad")),
          el("td", { class: "mono" }, c.detail ?? ""),
        ),
      ),
    );
}

async function init() {
  const rpc = document.getElementById("rpc-url");
  const expected = document.getElementById("expected-ledger");
  const text = document.getElementById("proof-text");
  try {
    const config = await apiGet("/v1/config", { signed: false });
    if (config.rpcUrl && !rpc.value) rpc.value = config.rpcUrl;
    if (config.contracts.ReserveLedger && !expected.value) expected.value = config.contracts.ReserveLedger;
  } catch {
    // The page also works away from the service: the auditor types the RPC URL.
  }
  const handed = sessionStorage.getItem("mb.console.proof");
  if (handed) {
    text.value = JSON.stringify(JSON.parse(handed), null, 2);
    sessionStorage.removeItem("mb.console.proof");
  }
  document.getElementById("proof-file").addEventListener("change", (e) => {
    const file = e.target.files?.[0];
    if (!file) return;
    const reader = new FileReader();
    reader.onload = () => (text.value = String(reader.result));
    reader.readAsText(file);
  });
  document.getElementById("verify-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const button = document.getElementById("verify");
    button.disabled = true;
    try {
      let file;
      try {
        file = JSON.parse(text.value);
      } catch {
        show([{ name: t("auditor.check.format"), ok: false, detail: t("auditor.notJson") }]);
        return;
      }
      show(await verifyProof(file, { rpcUrl: rpc.value.trim(), expectedLedger: expected.value.trim() }));
    } finally {
      button.disabled = false;
    }
  });
}

void init();
