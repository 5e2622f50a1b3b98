import { ok } from "../../lib/demoPlatform";
import { heading, say } from "../narration";
import type { DemoRun } from "../run";

interface OracleAsset {
  symbol: string;
  status: string;
  tripped: boolean;
  ageSeconds: number | null;
  reporters: string[];
  quorum: number;
}

/**
 * After the crash, the risk officer's view (issue 25): the margin-call board, the oracle and its breakers, the
 * scheduled parameter changes, the linked-account groups and review queue, and the surveillance and AML alerts — the
 * same staff API the operations console (`/console/ops.html`) reads.
 */
export async function operations(run: DemoRun, n: number): Promise<void> {
  heading(n, "The risk officer's operations console after the crash", "崩盘之后：风控官的运营控制台");
  const officer = run.d.staff("risk_officer");
  const board = ok(
    await officer.get<{ counts: Record<string, number>; accounts: { account: string; state: string }[] }>(
      "/v1/risk/margin-calls",
    ),
    "GET /v1/risk/margin-calls",
  );
  const counts = Object.entries(board.counts)
    .filter(([, c]) => c > 0)
    .map(([state, c]) => `${state} ${c}`)
    .join(", ");
  say(`  margin-call board: ${counts}`, `  追加保证金看板：${counts}`);

  const oracle = ok(
    await officer.get<{ reset: { available: boolean; via: string | null }; assets: OracleAsset[] }>("/v1/risk/oracle"),
    "GET /v1/risk/oracle",
  );
  const feeds = oracle.assets
    .map((a) => `${a.symbol} ${a.status}${a.tripped ? " (tripped)" : ""}, ${a.reporters.length}/${a.quorum} reporters`)
    .join("; ");
  const feedsZh = oracle.assets
    .map((a) => `${a.symbol} ${a.status}${a.tripped ? "（已熔断）" : ""}，报价人 ${a.reporters.length}/${a.quorum}`)
    .join("；");
  say(`  oracle and breakers: ${feeds}`, `  预言机与熔断：${feedsZh}`);
  say(
    oracle.reset.available
      ? `  a tripped breaker can be re-armed from the console (through ${oracle.reset.via})`
      : "  re-arming a breaker is not available to this service",
    oracle.reset.available ? `  已熔断的资产可在控制台复位（经由 ${oracle.reset.via}）` : "  本服务无权复位熔断",
  );

  const scheduled = ok(
    await officer.get<{ operations: { status: string }[] }>("/v1/risk/scheduled"),
    "GET /v1/risk/scheduled",
  );
  const pending = scheduled.operations.filter((o) => o.status === "pending" || o.status === "ready").length;
  say(
    `  scheduled parameter changes: ${scheduled.operations.length} on record, ${pending} waiting`,
    `  已排期的参数变更：共 ${scheduled.operations.length} 项，待执行 ${pending} 项`,
  );

  const groups = ok(
    await officer.get<{ groups: unknown[]; selfTrade: string }>("/v1/surveillance/groups"),
    "GET /v1/surveillance/groups",
  );
  const reviews = ok(
    await officer.get<{ reviews: unknown[] }>("/v1/surveillance/reviews?status=open"),
    "GET /v1/surveillance/reviews",
  );
  const alerts = ok(
    await officer.get<{ alerts: { rule: string }[] }>("/v1/surveillance/alerts?status=open"),
    "GET /v1/surveillance/alerts",
  );
  say(
    `  surveillance: ${groups.groups.length} linked-account group(s) (self-trade across a group: ${groups.selfTrade}), ` +
      `${reviews.reviews.length} account(s) in the review queue, ${alerts.alerts.length} open alert(s)`,
    `  监控：关联账户组 ${groups.groups.length} 个（组内自成交：${groups.selfTrade === "refuse" ? "拒绝" : "标记"}），` +
      `待复核账户 ${reviews.reviews.length} 个，未处理预警 ${alerts.alerts.length} 条`,
  );
  say(
    `  the console: ${run.d.keysFile.url}/console/ops.html (staff key)`,
    `  控制台：${run.d.keysFile.url}/console/ops.html（员工密钥）`,
  );
}
