/* global document, DOMParser */
// The public disclosure page: GET /v1/disclosures (no key), then the browser reads the contracts over the public
// JSON-RPC URL (/v1/config) and checks the headline figures against them, saying which match.
import { Contract, JsonRpcProvider } from "./vendor/ethers.min.js";
import {
  amount,
  apiGet,
  el,
  fillTable,
  num,
  percent,
  row,
  setText,
  shortHex,
  showError,
  showUpdated,
} from "./common.js";

const CLASS_NAMES = { senior: "Senior · 优先级", junior: "Junior (first loss) · 劣后级(首损)" };
const when = (t) => new Date(t * 1000).toISOString().replace(".000Z", "Z");
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
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

function render(d) {
  const cash = d.cashToken;
  const money = (v) => `${amount(v, cash.decimals)} ${cash.symbol}`;
  document.getElementById("body").hidden = false;
  fillTable(
    document.querySelector("#classes tbody"),
    d.classes.map((c) =>
      row(CLASS_NAMES[c.class] ?? c.class, num(money(c.totalAssets)), num(amount(c.sharePrice, cash.decimals, 6))),
    ),
    "—",
  );
  if (d.reserves.chartSvg) {
    const svg = new DOMParser().parseFromString(d.reserves.chartSvg, "image/svg+xml").documentElement;
    if (svg.nodeName === "svg")
      document.getElementById("reserve-chart").replaceChildren(document.importNode(svg, true));
  }
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
            num(a.ratio === null ? "nothing owed · 无负债" : percent(a.ratio)),
          ),
        ),
      ),
    "No epoch published yet · 尚未发布",
  );
  setText("fund-line", `Balance · 余额 ${money(d.insuranceFund.balance)}`);
  fillTable(
    document.querySelector("#fund tbody"),
    d.insuranceFund.history
      .slice()
      .reverse()
      .map((h) =>
        row(
          num(`${h.block}`),
          when(h.time),
          h.kind === "income" ? "income · 收入" : `payout · 赔付 (${shortHex(h.account)})`,
          num(money(h.amount)),
          num(money(h.balanceAfter)),
        ),
      ),
    "No movement · 无变动",
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
    "No default · 无违约",
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
    "No liquidation · 无强制平仓",
  );
  setText(
    "leverage-line",
    `${d.leverage.openAccounts} open account(s) · 在贷账户, ${d.leverage.underwater} with no equity left · 权益为负`,
  );
  fillTable(
    document.querySelector("#leverage tbody"),
    d.leverage.buckets.map((b) => row(b.label, num(`${b.accounts}`))),
    "—",
  );
  setText(
    "fee-line",
    `Borrow rate now · 当前借款年利率 ${percent(d.fees.annualRate)}; reserve factor · 准备金比例 ` +
      `${percent(d.fees.reserveFactor)}; senior target · 优先级目标收益 ${percent(d.fees.seniorTargetRate)}; ` +
      `liquidator's share of a penalty · 平仓人分得罚金比例 ${percent(d.fees.liquidatorShareOfPenalty)}`,
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
  setText("checks-rpc", `JSON-RPC ${config.rpcUrl}, block ${d.block}`);
  const provider = new JsonRpcProvider(config.rpcUrl, undefined, { staticNetwork: true });
  const c = config.contracts;
  const at = { blockTag: d.block };
  const pool = new Contract(c.CapitalPool, POOL_ABI, provider);
  const fund = new Contract(c.InsuranceFund, FUND_ABI, provider);
  const engine = new Contract(c.MarginEngine, ENGINE_ABI, provider);
  const results = [];
  const compare = (name, published, onChain) =>
    results.push({ name, ok: BigInt(published) === BigInt(onChain), detail: `page ${published} · chain ${onChain}` });
  compare("Insurance fund balance · 保障基金余额", d.insuranceFund.balance, await fund.balance(at));
  for (const [i, cl] of d.classes.entries()) {
    const vault = new Contract(c[cl.class === "senior" ? "SeniorTranche" : "JuniorTranche"], VAULT_ABI, provider);
    compare(`${CLASS_NAMES[cl.class]} assets · 资产`, cl.totalAssets, await pool.trancheAssets(i, at));
    compare(
      `${CLASS_NAMES[cl.class]} share price · 份额净值`,
      cl.sharePrice,
      await vault.convertToAssets(10n ** BigInt(cl.shareDecimals), at),
    );
  }
  const segments = await engine.queryFilter(engine.filters.Liquidated(), 0, d.block);
  compare(
    "Liquidation segments · 平仓分段数",
    d.liquidations.reduce((s, l) => s + l.segments, 0),
    segments.length,
  );
  const settled = await engine.queryFilter(engine.filters.DefaultSettled(), 0, d.block);
  compare(
    "Written off in defaults · 违约核销合计",
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
        el("td", { class: r.ok ? "pass" : "fail" }, r.ok ? "MATCH · 一致" : "MISMATCH · 不一致"),
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
