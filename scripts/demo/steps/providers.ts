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
  say(
    `  provider requests ${shares(run.state.facts.seniorRequested, decimals)} senior shares (all of them); ` +
      `paid at once and claimable ${cny(s.claimableAssets)} mbCNY`,
  );
  for (const r of me.requests) {
    say(
      `  redemption request waits: ${r.class} ticket ${r.ticket}, ${shares(r.remaining, decimals)} shares left, ` +
        `${r.ahead} ahead of it, due from ${new Date(r.dueAt * 1000).toISOString()}`,
    );
  }
  if (me.requests.length === 0) say("  nothing waits: the pool's cash covered the whole request");
  say(
    `  the book: utilisation ${pct(classes.book.utilisation)}, ${classes.book.gated ? "gate on" : "gate off"} ` +
      `(above ${pct(classes.book.gate.utilisation)} a request is paid at most ${pct(classes.book.gate.fraction)} a day); ` +
      `the queue job serves the rest as repayments and liquidations bring cash back`,
  );
}

/**
 * After the default: the queue was served from the liquidations' repayments, the provider claims, and its own page
 * shows each class — the junior (first-loss) class took the loss, the senior class kept its interest.
 */
export async function providersAfter(run: DemoRun, n: number): Promise<void> {
  heading(n, "Capital providers after the default: the queue served from repayments, the junior class took the loss");
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
  say(`  served: the senior request no longer waits; claimable ${cny(s.claimableAssets)} mbCNY`);
  const claimable = await senior.maxRedeem(w.address);
  if (claimable > 0n) await (await senior.redeem(claimable, w.address, w.address)).wait();
  const me = ok(await lp.get<ProviderSummary>("/v1/providers/me"), "GET /v1/providers/me");
  for (const c of me.classes) {
    say(
      `  ${c.class.padEnd(6)}: deposited ${cny(c.deposited)}, withdrawn ${cny(c.withdrawn)}, still held ` +
        `${cny(c.value)} (${shares(c.shares, decimals)} shares), earned ${cny(c.earned)} mbCNY`,
    );
  }
  const classes = ok(await run.d.public.get<ClassesSummary>("/v1/providers/classes"), "GET /v1/providers/classes");
  for (const c of classes.classes) {
    say(`  ${c.class} share price ${formatUnits(c.sharePrice, 6)} mbCNY; ${c.queuedRequests} request(s) waiting`);
  }
}
