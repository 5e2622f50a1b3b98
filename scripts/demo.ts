/**
 * npm run demo — drives the running platform (`npm start`) through its public API and the chain, as its users
 * would, and narrates the DESIGN.md seed flow: client A passes KYC, signs a financing agreement, deposits 100,000,
 * takes 2× and buys from a market maker through the order book; a capital provider supplies the pool; prices fall
 * (the development market, moved by the risk officer at /v1/dev/market): warning, margin call, liquidation in
 * segments least liquid first, a gap that trips the oracle's breaker, a default the insurance fund and the pool
 * absorb; the day's statements and the final settlement; a reserves epoch that an auditor checks against the chain.
 *
 * Every figure printed is read back from the system (API answers, contract reads), never computed for show. The
 * run's state (its users' wallets and keys, the steps done) is kept in <data>/demo/state.json, so a run stopped
 * (or the platform restarted) resumes where it was; a finished run is followed by a new one with new users.
 * MB_DEMO_STOP_AFTER=<step> stops after that step (the e2e test restarts the platform there). MB_LANG=zh-CN (the
 * default) or en picks the narration's language; every line exists in both.
 *
 * This file only runs the steps: each is a function in scripts/demo/steps/ (grouped by the part of the story they
 * tell), sharing the run (scripts/demo/run.ts), the figures (plan.ts) and the narration helper (narration.ts).
 */
import { randomUUID } from "node:crypto";
import path from "node:path";
import { Wallet } from "ethers";
import { configFromEnv } from "../offchain/shared/config";
import { narrationLanguage, say, setNarrationLanguage } from "./demo/narration";
import { STEPS, USERS, type Step } from "./demo/plan";
import { DemoRun } from "./demo/run";
import { agreement, kyc, users } from "./demo/steps/onboarding";
import { custody, margin, supplyPool } from "./demo/steps/funding";
import { trading } from "./demo/steps/trading";
import { fallTo, gap, liquidation } from "./demo/steps/stress";
import { reserves, statements } from "./demo/steps/reporting";
import { providersAfter, redemption } from "./demo/steps/providers";
import { practice } from "./demo/steps/practice";
import { operations } from "./demo/steps/operations";
import { agreementEnds } from "./demo/steps/agreementEnd";
import { hedge } from "./demo/steps/hedge";
import { DemoError } from "./lib/demoPlatform";

/** The steps, in STEPS order. */
const STEP_RUNNERS: Record<Step, (run: DemoRun, n: number) => Promise<void>> = {
  users,
  kyc,
  agreement,
  custody,
  pool: supplyPool,
  margin,
  redemption,
  trading,
  warning: (run, n) => fallTo(run, n, "Warning"),
  "margin-call": (run, n) => fallTo(run, n, "MarginCall"),
  liquidation,
  hedge,
  gap,
  operations,
  providers: providersAfter,
  statements,
  reserves,
  practice,
  "agreement-end": agreementEnds,
};

/** Runs the steps not yet done in this run's state (a new run with new users once the previous one finished). */
async function runDemo(run: DemoRun): Promise<void> {
  const health = await run.d.public.get("/v1/health");
  if (health.status !== 200) throw new DemoError(`the service at ${run.d.keysFile.url} is not healthy`);
  run.cfg = await run.d.config();
  const previous = run.d.loadState();
  if (!previous || previous.done.length === STEPS.length) {
    run.d.state = {
      runId: randomUUID().slice(0, 8),
      startedAt: new Date().toISOString(),
      wallets: Object.fromEntries(USERS.map((u) => [u, Wallet.createRandom().privateKey])),
      keys: {},
      done: [],
      facts: {},
    };
    run.d.saveState();
    say(
      `MarginBridge demo, run ${run.state.runId} (state in ${run.d.stateFilePath})`,
      `MarginBridge 演示，运行 ${run.state.runId}（状态保存在 ${run.d.stateFilePath}）`,
    );
    if (previous)
      say(
        `(the previous run ${previous.runId} finished; this one starts with new users)`,
        `（上一次运行 ${previous.runId} 已完成；本次使用新用户重新开始）`,
      );
  } else {
    const after = previous.done.at(-1) ?? "start";
    say(
      `MarginBridge demo, resuming run ${run.state.runId} after "${after}"`,
      `MarginBridge 演示，在“${after}”之后继续运行 ${run.state.runId}`,
    );
  }
  say(
    `API ${run.d.keysFile.url}   chain ${run.d.keysFile.rpcUrl} (chain id ${run.cfg.chainId})`,
    `API ${run.d.keysFile.url}   区块链 ${run.d.keysFile.rpcUrl}（链 ID ${run.cfg.chainId}）`,
  );

  const stopAfter = process.env.MB_DEMO_STOP_AFTER as Step | undefined;
  if (stopAfter && !STEPS.includes(stopAfter)) throw new DemoError(`MB_DEMO_STOP_AFTER: no step ${stopAfter}`);
  for (const [i, step] of STEPS.entries()) {
    if (run.state.done.includes(step)) continue;
    await STEP_RUNNERS[step](run, i + 1);
    run.state.done.push(step);
    run.d.saveState();
    if (step === stopAfter) {
      say(
        `\nstopped after "${step}" (MB_DEMO_STOP_AFTER); run \`npm run demo\` again to continue`,
        `\n已在“${step}”之后停止（MB_DEMO_STOP_AFTER）；再次运行 \`npm run demo\` 即可继续`,
      );
      return;
    }
  }
  const consoleUrl = `${run.d.keysFile.url}/console/`;
  say(
    `\nDemo run ${run.state.runId} complete. Open ${consoleUrl} and sign in as client A with`,
    `\n演示运行 ${run.state.runId} 完成。打开 ${consoleUrl}，以客户 A 的身份登录，使用`,
  );
  // The secret stays in the run's state file (mode 0600): secrets are never printed.
  const keyId = run.state.keys.clientA.keyId;
  say(
    `  key ${keyId}; its secret is keys.clientA.secret in ${run.d.stateFilePath}`,
    `  密钥 ${keyId}；其私密部分为 ${run.d.stateFilePath} 中的 keys.clientA.secret`,
  );
}

async function main(): Promise<void> {
  setNarrationLanguage(narrationLanguage());
  const dataDir = path.resolve(configFromEnv(process.env).dataDir);
  const run = new DemoRun(dataDir);
  try {
    await runDemo(run);
  } finally {
    run.close();
  }
}

main().catch((err) => {
  console.error(err instanceof DemoError ? `npm run demo: ${err.message}` : err);
  process.exit(1);
});
