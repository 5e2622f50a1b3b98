import { formatUnits } from "ethers";
import type { ApiCredentials } from "../../../offchain/api";
import type { ClassesSummary, ProviderSummary } from "../../../offchain/providers";
import { TrancheVault__factory } from "../../../typechain-types";
import { cny, ok, pct, until } from "../../lib/demoPlatform";
import { say, heading } from "../narration";
import type { DemoRun } from "../run";

/** The capital provider's own key (role capital_provider, bound to its address), issued once per run. */
async function providerKey(run: DemoRun): Promise<void> {
  if (run.state.keys.providerLp) return;
  const key = ok(
    await run.d
      .staff("operator")
      .post<ApiCredentials>(
        "/v1/admin/api-keys",
        { role: "capital_provider", subject: run.address("provider"), label: `demo ${run.state.runId} provider` },
        `demo-${run.state.runId}-key-provider-lp`,
      ),
    "POST /v1/admin/api-keys",
  );
  run.state.keys.providerLp = { keyId: key.keyId, secret: key.secret };
  run.d.saveState();
}

const shares = (v: string | bigint, decimals: number): string => Number(formatUnits(v, decimals)).toLocaleString("en");

/**
 * With client A's loan out, the provider asks for all of its senior capital back: the pool pays at once up to the
 * utilisation gate, and the rest waits in the queue (ERC-7540) for cash to come back — read from the provider's own
 * page (GET /v1/providers/me) and the public class figures.
 */
export async function redemption(run: DemoRun, n: number): Promise<void> {
  heading(
    n,
    "A capital provider asks for its senior capital back while the pool is lent: paid up to the gate, the rest queues",
    "资金池出借期间，资金方申请赎回全部优先级资本：在闸门额度内立即支付，其余排队",
  );
  await providerKey(run);
  const lp = run.d.user("providerLp");
  const w = run.wallet("provider");
  const senior = TrancheVault__factory.connect(run.contract("SeniorTranche"), w);
  const decimals = Number(await senior.decimals());
  if (!run.state.facts.seniorRequested) {
    const all = await senior.balanceOf(w.address);
    await (await senior.requestRedeem(all, w.address, w.address)).wait();
    run.state.facts.seniorRequested = all.toString();
    run.d.saveState();
  }
  const classes = ok(await run.d.public.get<ClassesSummary>("/v1/providers/classes"), "GET /v1/providers/classes");
  const me = ok(await lp.get<ProviderSummary>("/v1/providers/me"), "GET /v1/providers/me");
  const s = me.classes.find((c) => c.class === "senior")!;
  const requested = shares(run.state.facts.seniorRequested, decimals);
  say(
    `  provider requests ${requested} senior shares (all of them); paid at once and claimable ${cny(s.claimableAssets)} mbCNY`,
    `  资金方申请赎回 ${requested} 份优先级份额（全部）；立即支付、可领取 ${cny(s.claimableAssets)} mbCNY`,
  );
  for (const r of me.requests) {
    const [left, due] = [shares(r.remaining, decimals), new Date(r.dueAt * 1000).toISOString()];
    say(
      `  redemption request waits: ${r.class} ticket ${r.ticket}, ${left} shares left, ${r.ahead} ahead of it, due from ${due}`,
      `  赎回申请排队中：${r.class} 编号 ${r.ticket}，剩余 ${left} 份，前面还有 ${r.ahead} 笔，最早 ${due} 到期`,
    );
  }
  if (me.requests.length === 0)
    say("  nothing waits: the pool's cash covered the whole request", "  无需排队：资金池现金足以支付全部申请");
  const book = classes.book;
  const [util, gateAt, gateFraction] = [pct(book.utilisation), pct(book.gate.utilisation), pct(book.gate.fraction)];
  say(
    `  the book: utilisation ${util}, ${book.gated ? "gate on" : "gate off"} ` +
      `(above ${gateAt} a request is paid at most ${gateFraction} a day); ` +
      `the queue job serves the rest as repayments and liquidations bring cash back`,
    `  资金池：使用率 ${util}，${book.gated ? "赎回闸门开启" : "赎回闸门关闭"}` +
      `（使用率高于 ${gateAt} 时，每笔申请每日最多支付 ${gateFraction}）；` +
      `其余部分由排队任务在还款和强平回笼现金时支付`,
  );
}

/**
 * After the default: the queue was served from the liquidations' repayments, the provider claims, and its own page
 * shows each class — the junior (first-loss) class took the loss, the senior class kept its interest.
 */
export async function providersAfter(run: DemoRun, n: number): Promise<void> {
  heading(
    n,
    "Capital providers after the default: the queue served from repayments, the junior class took the loss",
    "违约之后的资金方：排队的赎回由还款支付，劣后级承担了损失",
  );
  await providerKey(run);
  const lp = run.d.user("providerLp");
  const w = run.wallet("provider");
  const senior = TrancheVault__factory.connect(run.contract("SeniorTranche"), w);
  const decimals = Number(await senior.decimals());
  const served = await until(
    "the redemption-queue job to serve the senior request",
    async () => {
      const me = ok(await lp.get<ProviderSummary>("/v1/providers/me"), "GET /v1/providers/me");
      return me.requests.some((r) => r.class === "senior") ? undefined : me;
    },
    180_000,
  );
  const s = served.classes.find((c) => c.class === "senior")!;
  say(
    `  served: the senior request no longer waits; claimable ${cny(s.claimableAssets)} mbCNY`,
    `  已支付：优先级赎回申请不再排队；可领取 ${cny(s.claimableAssets)} mbCNY`,
  );
  const claimable = await senior.maxRedeem(w.address);
  if (claimable > 0n) await (await senior.redeem(claimable, w.address, w.address)).wait();
  const me = ok(await lp.get<ProviderSummary>("/v1/providers/me"), "GET /v1/providers/me");
  for (const c of me.classes) {
    const held = shares(c.shares, decimals);
    say(
      `  ${c.class.padEnd(6)}: deposited ${cny(c.deposited)}, withdrawn ${cny(c.withdrawn)}, still held ` +
        `${cny(c.value)} (${held} shares), earned ${cny(c.earned)} mbCNY`,
      `  ${c.class === "senior" ? "优先级" : "劣后级"}：存入 ${cny(c.deposited)}，已取回 ${cny(c.withdrawn)}，仍持有 ` +
        `${cny(c.value)}（${held} 份），收益 ${cny(c.earned)} mbCNY`,
    );
  }
  const classes = ok(await run.d.public.get<ClassesSummary>("/v1/providers/classes"), "GET /v1/providers/classes");
  for (const c of classes.classes) {
    const price = formatUnits(c.sharePrice, 6);
    say(
      `  ${c.class} share price ${price} mbCNY; ${c.queuedRequests} request(s) waiting`,
      `  ${c.class === "senior" ? "优先级" : "劣后级"}份额价格 ${price} mbCNY；${c.queuedRequests} 笔申请排队中`,
    );
  }
}
