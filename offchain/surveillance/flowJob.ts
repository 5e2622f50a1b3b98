import type { Logger } from "../shared/logger";
import type { Store } from "../store";
import { flowAlert, raiseAlert } from "./alerts";
import { flowEvents, type Stamped } from "./flow";
import { FlowMonitor } from "./monitor";
import { journalRules, refusalRules, switchesOf, type FlowRulesConfig, type GroupOf } from "./rules";
import type { FlowEvent, Finding } from "./rules/types";

export interface FlowJobOptions {
  rules: FlowRulesConfig;
  /** The tiers the behaviour registry accepts (the order books' configured ones). */
  tiers: readonly string[];
  log: Logger;
  /** Journal rows read per query. */
  batch?: number;
  /**
   * Rows stamped later than now − lagMs wait for the next run: the book records a command's fills just after
   * the command is durable, and a row read before its fills would lose its trades.
   */
  lagMs?: number;
  /** Linked accounts (S1's groups), loaded once a run; none by default. */
  groups?: () => Promise<GroupOf>;
}

/** What a run did (the job's answer, and the benchmark's figures). */
export interface FlowRunResult {
  events: number;
  findings: number;
  raised: number;
  /** Journal entries the book compacted before surveillance read them. */
  skipped: number;
}

interface Reader {
  monitor: FlowMonitor;
  /** The cursor this process last saved: another value in the store means another instance ran meanwhile. */
  saved: number;
}

const REFUSALS = "refusals";

/**
 * The order-flow surveillance job (one instance at a time: a leased job): reads each book's journal and fills past
 * its cursor, and the pre-trade refusals past theirs, through the rules; raises the findings of every window that
 * closed as alerts; saves each cursor where a restarted reader must begin (the oldest window still open), so a
 * restart or a takeover re-reads those windows whole and raises nothing twice (alerts are de-duplicated).
 */
export class FlowSurveillance {
  private readonly readers = new Map<string, Reader>();
  private groupOf: GroupOf = () => undefined;

  constructor(
    private readonly store: Store,
    private readonly opts: FlowJobOptions,
  ) {}

  /** How far each reader has read (journal:<instrument> → seq, refusals → id): its lag behind the book. */
  positions(): Map<string, number> {
    return new Map([...this.readers].map(([name, r]) => [name, r.monitor.position]));
  }

  async run(now = Date.now()): Promise<FlowRunResult> {
    if (this.opts.groups) this.groupOf = await this.opts.groups();
    const total: FlowRunResult = { events: 0, findings: 0, raised: 0, skipped: 0 };
    for (const instrument of await this.store.alerts.journaledInstruments())
      add(total, await this.readJournal(instrument, now));
    add(total, await this.readRefusals(now));
    return total;
  }

  private async reader(name: string, rules: "journal" | "refusals"): Promise<Reader> {
    const saved = await this.store.alerts.cursor(name);
    const known = this.readers.get(name);
    if (known !== undefined && known.saved === saved) return known;
    const c = this.opts.rules;
    const monitor = new FlowMonitor(
      rules === "journal" ? journalRules(c) : refusalRules(c),
      c.windowMs,
      (a) => this.groupOf(a),
      saved,
    );
    const r: Reader = { monitor, saved };
    this.readers.set(name, r);
    return r;
  }

  private async readJournal(instrument: string, now: number): Promise<FlowRunResult> {
    const name = `journal:${instrument}`;
    const r = await this.reader(name, "journal");
    const findings: Finding[] = [];
    let events = 0;
    let skipped = 0;
    const until = now - (this.opts.lagMs ?? 2_000);
    for (;;) {
      const from = r.monitor.position;
      const rows = await this.store.alerts.journalAfter(instrument, from, this.opts.batch ?? 2_000);
      const parsed = rows.map((row) => JSON.parse(row.entry) as Stamped);
      const ready = parsed.filter((s) => s.ts <= until);
      if (ready.length === 0) break;
      if (ready[0].seq > from + 1 && from > 0) skipped += ready[0].seq - from - 1;
      const fills = await this.store.alerts.fillsBetween(instrument, from, ready[ready.length - 1].seq);
      const batch = flowEvents(instrument, ready, fills);
      for (const e of batch) findings.push(...r.monitor.feed(e));
      r.monitor.skipTo(ready[ready.length - 1].seq);
      events += batch.length;
      if (ready.length < rows.length) break;
    }
    if (skipped > 0)
      this.opts.log.warn("surveillance: journal entries compacted before they were read", { instrument, skipped });
    findings.push(...r.monitor.closeDue(until));
    return { events, skipped, ...(await this.finish(name, r, findings)) };
  }

  private async readRefusals(now: number): Promise<FlowRunResult> {
    const r = await this.reader(REFUSALS, "refusals");
    const findings: Finding[] = [];
    let events = 0;
    for (;;) {
      const rows = await this.store.alerts.refusalsAfter(r.monitor.position, this.opts.batch ?? 2_000);
      if (rows.length === 0) break;
      for (const x of rows) {
        const e: FlowEvent = { ...x, kind: "refusal", pos: x.id, ts: x.at };
        findings.push(...r.monitor.feed(e));
      }
      events += rows.length;
    }
    findings.push(...r.monitor.closeDue(now - (this.opts.lagMs ?? 2_000)));
    return { events, skipped: 0, ...(await this.finish(REFUSALS, r, findings)) };
  }

  /** Raises the findings, then saves the cursor (a crash in between re-raises them: de-duplicated). */
  private async finish(name: string, r: Reader, findings: Finding[]): Promise<{ findings: number; raised: number }> {
    let raised = 0;
    for (const f of findings) {
      const s = switchesOf(this.opts.rules, f.rule);
      if ((await raiseAlert(this.store, this.opts.tiers, flowAlert(f, s), s)).created) raised++;
    }
    const pos = r.monitor.safePosition();
    if (pos !== r.saved) {
      await this.store.alerts.setCursor(name, pos);
      r.saved = pos;
    }
    return { findings: findings.length, raised };
  }
}

function add(t: FlowRunResult, r: FlowRunResult): void {
  t.events += r.events;
  t.findings += r.findings;
  t.raised += r.raised;
  t.skipped += r.skipped;
}
