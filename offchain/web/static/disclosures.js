/* global document */
// The public disclosure page: GET /v1/disclosures (no key), then the browser reads the contracts over the public
// JSON-RPC URL (/v1/config) and checks the headline figures against them, saying which match.
import { Contract, JsonRpcProvider } from "./vendor/ethers.min.js";
import {
  amount,
  apiGet,
  el,
  fillTable,
  num,
  parseSvg,
  percent,
  row,
  setText,
  shortHex,
  showError,
  showUpdated,
} from "./common.js";
import { applyI18n, dateTime, t } from "./i18n.js";

applyI18n();

const className = (c) => t(`class.${c}`);
const POOL_ABI = [
  "function trancheAssets(uint8) view returns (uint256)",
  "event BadDebtWrittenOff(address indexed borrower, uint256 assets, uint256 juniorLoss, uint256 seniorLoss, uint256 deficitAfter)",
];
const FUND_ABI = ["function balance() view returns (uint256)"];
const VAULT_ABI = ["function convertToAssets(uint256) view returns (uint256)"];
const ENGINE_ABI = [
  "event Liquidated(address indexed account, address indexed liquidator, address indexed asset, uint256 units, uint256 price, uint256 value, uint256 debtRepaid, uint256 liquidatorBonus, uint256 insuranceShare)",
  "event DefaultSettled(address indexed account, uint256 fromAccount, uint256 fromInsurance, uint256 writtenOff)",
];

function duration(s) {
  if (s === null) return "—";
  if (s < 120) return t("common.seconds", { n: s });
  if (s < 7200) return t("common.minutes", { n: Math.round(s / 60) });
  return t("common.hours", { n: Math.round(s / 360) / 10 });
}

function render(d) {
  const cash = d.cashToken;
  const money = (v) => `${amount(v, cash.decimals)} ${cash.symbol}`;
  document.getElementById("body").hidden = false;
  fillTable(
    document.querySelector("#classes tbody"),
    d.classes.map((c) =>
      row(className(c.class), num(money(c.totalAssets)), num(amount(c.sharePrice, cash.decimals, 6))),
    ),
    "—",
  );
  const svg = d.reserves.chartSvg ? parseSvg(d.reserves.chartSvg, t("disc.reservesH")) : null;
  if (svg) document.getElementById("reserve-chart").replaceChildren(svg);
  fillTable(
    document.querySelector("#reserves tbody"),
    d.reserves.epochs
      .slice()
      .reverse()
      .flatMap((e) =>
        e.perAsset.map((a) =>
          row(
            `${e.epoch}`,
            a.token.symbol,
            num(amount(a.liabilities, a.token.decimals, Math.min(2, a.token.decimals))),
            num(amount(a.reserves, a.token.decimals, Math.min(2, a.token.decimals))),
            num(a.ratio === null ? t("provider.nothingOwed") : percent(a.ratio)),
          ),
        ),
      ),
    t("disc.notPublished"),
  );
  setText("fund-line", t("disc.balance", { amount: money(d.insuranceFund.balance) }));
  fillTable(
    document.querySelector("#fund tbody"),
    d.insuranceFund.history
      .slice()
      .reverse()
      .map((h) =>
        row(
          num(`${h.block}`),
          dateTime(h.time),
          h.kind === "income" ? t("disc.income") : t("disc.payout", { account: shortHex(h.account) }),
          num(money(h.amount)),
          num(money(h.balanceAfter)),
        ),
      ),
    t("disc.noMovement"),
  );
  fillTable(
    document.querySelector("#losses tbody"),
    d.lossesByMonth.map((m) =>
      row(
        m.month,
        num(`${m.defaults}`),
        num(money(m.fromAccount)),
        num(money(m.fromInsurance)),
        num(money(m.writtenOff)),
      ),
    ),
    t("disc.noDefault"),
  );
  fillTable(
    document.querySelector("#liquidations tbody"),
    d.liquidations
      .slice()
      .reverse()
      .map((l) =>
        row(
          num(`${l.block}`),
          shortHex(l.account),
          num(`${l.segments}`),
          num(money(l.value)),
          num(money(l.debtRepaid)),
          num(duration(l.secondsToLiquidation)),
        ),
      ),
    t("disc.noLiquidation"),
  );
  setText(
    "leverage-line",
    t("disc.leverageLine", { open: d.leverage.openAccounts, underwater: d.leverage.underwater }),
  );
  fillTable(
    document.querySelector("#leverage tbody"),
    d.leverage.buckets.map((b) => row(b.label, num(`${b.accounts}`))),
    "—",
  );
  setText(
    "fee-line",
    t("disc.feeLine", {
      rate: percent(d.fees.annualRate),
      reserve: percent(d.fees.reserveFactor),
      senior: percent(d.fees.seniorTargetRate),
      share: percent(d.fees.liquidatorShareOfPenalty),
    }),
  );
  fillTable(
    document.querySelector("#fees tbody"),
    d.fees.assets.map((a) =>
      row(a.symbol, num(`${a.liquidityTier}`), num(percent(a.haircut)), num(percent(a.liquidationPenalty))),
    ),
    "—",
  );
}

/** Reads the contracts directly and compares: the fund's balance, each class's assets and share price, the count of
 *  liquidation segments and the sum written off. */
async function check(d) {
  const config = await apiGet("/v1/config", { signed: false });
  if (!config.rpcUrl) return;
  document.getElementById("checks").hidden = false;
  setText("checks-rpc", t("disc.checksRpc", { url: config.rpcUrl, block: d.block }));
  const provider = new JsonRpcProvider(config.rpcUrl, undefined, { staticNetwork: true });
  const c = config.contracts;
  const at = { blockTag: d.block };
  const pool = new Contract(c.CapitalPool, POOL_ABI, provider);
  const fund = new Contract(c.InsuranceFund, FUND_ABI, provider);
  const engine = new Contract(c.MarginEngine, ENGINE_ABI, provider);
  const results = [];
  const compare = (name, published, onChain) =>
    results.push({
      name,
      ok: BigInt(published) === BigInt(onChain),
      detail: t("disc.detail", { page: published, chain: onChain }),
    });
  compare(t("disc.check.fund"), d.insuranceFund.balance, await fund.balance(at));
  for (const [i, cl] of d.classes.entries()) {
    const vault = new Contract(c[cl.class === "senior" ? "SeniorTranche" : "JuniorTranche"], VAULT_ABI, provider);
    compare(t("disc.check.assets", { class: className(cl.class) }), cl.totalAssets, await pool.trancheAssets(i, at));
    compare(
      t("disc.check.price", { class: className(cl.class) }),
      cl.sharePrice,
      await vault.convertToAssets(10n ** BigInt(cl.shareDecimals), at),
    );
  }
  const segments = await engine.queryFilter(engine.filters.Liquidated(), 0, d.block);
  compare(
    t("disc.check.segments"),
    d.liquidations.reduce((s, l) => s + l.segments, 0),
    segments.length,
  );
  const settled = await engine.queryFilter(engine.filters.DefaultSettled(), 0, d.block);
  compare(
    t("disc.check.writtenOff"),
    d.lossesByMonth.reduce((s, m) => s + BigInt(m.writtenOff), 0n),
    settled.reduce((s, e) => s + e.args.writtenOff, 0n),
  );
  fillTable(
    document.querySelector("#check-table tbody"),
    results.map((r) =>
      el(
        "tr",
        { "data-ok": r.ok ? "true" : "false" },
        el("td", {}, r.name),
        el("td", { class: r.ok ? "pass" : "fail" }, t(r.ok ? "disc.match" : "disc.mismatch")),
        el("td", { class: "mono" }, r.detail),
      ),
    ),
    "—",
  );
}

async function init() {
  try {
    const d = await apiGet("/v1/disclosures", { signed: false });
    render(d);
    showUpdated(d.block);
    await check(d);
  } catch (err) {
    showError(err);
  }
}

void init();
