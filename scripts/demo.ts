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
 * MB_DEMO_STOP_AFTER=<step> stops after that step (the e2e test restarts the platform there).
 */
import { randomUUID } from "node:crypto";
import path from "node:path";
import { Wallet, formatUnits, id, parseEther, type Signer } from "ethers";
import type { ApiCredentials } from "../offchain/api";
import { PRICE_STATUSES, type AccountSummary } from "../offchain/portfolio";
import { auditClientProof, formatReport, parseClientProof } from "../offchain/reserves";
import { agreementDomain, agreementMessage, agreementTypedData, dateOfTimestamp } from "../offchain/settlement/legal";
import { settlementDomain, signOrder, type SignedOrderFields } from "../offchain/settlement/orders";
import { BUSINESS_DAY_UTC_OFFSET_MINUTES } from "../offchain/settlement/dailyStatements";
import { configFromEnv } from "../offchain/shared/config";
import {
  CollateralToken__factory,
  MarginEngine__factory,
  OracleRouter__factory,
  ReserveLedger__factory,
  TrancheVault__factory,
} from "../typechain-types";
import { supplyTranche } from "./deploy/providers";
import { CNY, DemoError, DemoPlatform, cny, count, ok, pct, price, until, type DemoState } from "./lib/demoPlatform";

const TICK = 10_000n; // 0.01 mbCNY: the books' price grid
const WAD = 10n ** 18n;
const OWN_FUNDS = 100_000n * CNY;
const LEVERAGE = 2n;
const POOL_SUPPLY = 1_000_000n * CNY;
/** Of the provider's supply, what goes into the junior (first-loss) class; the rest is senior. */
const JUNIOR_SUPPLY = 100_000n * CNY;
/** Client A's purchases: share of the 200,000 it may trade, least liquid last in the list. */
const PORTFOLIO = [
  { symbol: "mbBANK", share: 70n },
  { symbol: "mbSMALL", share: 29n },
];
const USERS = ["clientA", "marketMaker", "provider"] as const;
type User = (typeof USERS)[number];

const STEPS = [
  "users",
  "kyc",
  "agreement",
  "custody",
  "pool",
  "margin",
  "trading",
  "warning",
  "margin-call",
  "liquidation",
  "gap",
  "statements",
  "reserves",
] as const;
type Step = (typeof STEPS)[number];

interface Notice {
  kind: string;
  deadline: number | null;
  amountToCure: string | null;
  blockNumber: number | null;
}

const say = (line = ""): void => console.log(line);
const heading = (n: number, text: string): void => say(`\n[${n}/${STEPS.length}] ${text}`);

class Demo {
  private readonly d: DemoPlatform;
  private cfg!: Awaited<ReturnType<DemoPlatform["config"]>>;

  constructor(dataDir: string) {
    this.d = new DemoPlatform(dataDir);
  }

  private get state(): DemoState {
    return this.d.state!;
  }

  private wallet(user: User): Wallet {
    return new Wallet(this.state.wallets[user], this.d.provider);
  }

  private address(user: User): string {
    return new Wallet(this.state.wallets[user]).address;
  }

  private contract(name: string): string {
    const a = this.cfg.contracts[name];
    if (!a) throw new DemoError(`the deployment has no ${name}`);
    return a;
  }

  async run(): Promise<void> {
    const health = await this.d.public.get("/v1/health");
    if (health.status !== 200) throw new DemoError(`the service at ${this.d.keysFile.url} is not healthy`);
    this.cfg = await this.d.config();
    const previous = this.d.loadState();
    if (!previous || previous.done.length === STEPS.length) {
      this.d.state = {
        runId: randomUUID().slice(0, 8),
        startedAt: new Date().toISOString(),
        wallets: Object.fromEntries(USERS.map((u) => [u, Wallet.createRandom().privateKey])),
        keys: {},
        done: [],
        facts: {},
      };
      this.d.saveState();
      say(`MarginBridge demo, run ${this.state.runId} (state in ${this.d.stateFilePath})`);
      if (previous) say(`(the previous run ${previous.runId} finished; this one starts with new users)`);
    } else {
      say(`MarginBridge demo, resuming run ${this.state.runId} after "${previous.done.at(-1) ?? "start"}"`);
    }
    say(`API ${this.d.keysFile.url}   chain ${this.d.keysFile.rpcUrl} (chain id ${this.cfg.chainId})`);

    const stopAfter = process.env.MB_DEMO_STOP_AFTER as Step | undefined;
    if (stopAfter && !STEPS.includes(stopAfter)) throw new DemoError(`MB_DEMO_STOP_AFTER: no step ${stopAfter}`);
    for (const [i, step] of STEPS.entries()) {
      if (this.state.done.includes(step)) continue;
      await this.steps[step](i + 1);
      this.state.done.push(step);
      this.d.saveState();
      if (step === stopAfter) {
        say(`\nstopped after "${step}" (MB_DEMO_STOP_AFTER); run \`npm run demo\` again to continue`);
        return;
      }
    }
    say(`\nDemo run ${this.state.runId} complete. Open ${this.d.keysFile.url}/console/ and sign in as client A with`);
    // The secret stays in the run's state file (mode 0600): secrets are never printed.
    say(`  key ${this.state.keys.clientA.keyId}; its secret is keys.clientA.secret in ${this.d.stateFilePath}`);
  }

  close(): void {
    this.d.close();
  }

  // ─────────────────────────────────────────── the steps ───────────────────────────────────────────

  private readonly steps: Record<Step, (n: number) => Promise<void>> = {
    users: (n) => this.users(n),
    kyc: (n) => this.kyc(n),
    agreement: (n) => this.agreement(n),
    custody: (n) => this.custody(n),
    pool: (n) => this.supplyPool(n),
    margin: (n) => this.margin(n),
    trading: (n) => this.trading(n),
    warning: (n) => this.fallTo(n, "Warning"),
    "margin-call": (n) => this.fallTo(n, "MarginCall"),
    liquidation: (n) => this.liquidation(n),
    gap: (n) => this.gap(n),
    statements: (n) => this.statements(n),
    reserves: (n) => this.reserves(n),
  };

  /** Three new users, each with a wallet (gas from the dev faucet) and a client API key issued by the operator. */
  private async users(n: number): Promise<void> {
    heading(n, "Users: client A, a market maker and a capital provider get wallets and API keys");
    const faucet = await this.d.devAccount(0);
    for (const user of USERS) {
      const address = this.address(user);
      if ((await this.d.provider.getBalance(address)) === 0n) {
        await (await faucet.sendTransaction({ to: address, value: parseEther("10") })).wait();
      }
      if (!this.state.keys[user]) {
        const key = ok(
          await this.d
            .staff("operator")
            .post<ApiCredentials & { role: string }>(
              "/v1/admin/api-keys",
              { role: "client", subject: address, label: `demo ${this.state.runId} ${user}` },
              `demo-${this.state.runId}-key-${user}`,
            ),
          "POST /v1/admin/api-keys",
        );
        this.state.keys[user] = { keyId: key.keyId, secret: key.secret };
        this.d.saveState();
      }
      const me = ok(await this.d.user(user).get<{ role: string; subject: string }>("/v1/me"), "GET /v1/me");
      say(`  ${user.padEnd(12)} ${address}  API key ${this.state.keys[user].keyId} (role ${me.role})`);
    }
  }

  /** Each user applies through the API; the service screens, scores and writes the KYC registry on-chain. */
  private async kyc(n: number): Promise<void> {
    heading(n, "KYC: each user applies; the service screens, scores and writes KycRegistry");
    const people: Record<User, [string, string]> = {
      clientA: ["Li Wei", "1982-03-14"],
      marketMaker: ["Zhang Min", "1975-11-02"],
      provider: ["Chen Jing", "1968-07-21"],
    };
    for (const user of USERS) {
      const [name, born] = people[user];
      const body = {
        jurisdiction: 156,
        identity: {
          fullName: name,
          dateOfBirth: born,
          nationality: "CN",
          documentType: "passport",
          documentNumber: `E${id(`${this.state.runId}:${user}`).slice(2, 10).toUpperCase()}`,
          homeAddress: "1 Century Avenue, Pudong, Shanghai",
        },
        questionnaire: {
          investmentExperienceYears: 8,
          annualIncomeCny: "600000",
          netAssetsCny: "3000000",
          lossTolerancePct: 30,
          objective: "growth",
          understandsMarginCalls: true,
        },
        creditScore: 760,
      };
      let app = ok(
        await this.d.user(user).post<{
          id: string;
          status: string;
          tier: number;
          score: number;
          maxLeverage: string;
          txHash: string | null;
          reviewReasons: string[];
        }>("/v1/kyc/applications", body, `demo-${this.state.runId}-kyc-${user}`),
        "POST /v1/kyc/applications",
      );
      if (app.status === "pending_review") {
        say(`  ${user}: held for review (${app.reviewReasons.join("; ")}); the KYC officer approves`);
        app = ok(
          await this.d
            .staff("kyc_officer")
            .post<typeof app>(
              `/v1/kyc/applications/${app.id}/approve`,
              { reason: "documents checked by the KYC desk" },
              `demo-${this.state.runId}-approve-${user}`,
            ),
          "POST /v1/kyc/applications/:id/approve",
        );
      }
      if (app.status !== "approved") throw new DemoError(`${user}'s application is ${app.status}`);
      say(
        `  ${user.padEnd(12)} ${name}: ${app.status}, score ${app.score}, tier ${app.tier} ` +
          `(leverage up to ${app.maxLeverage}×), KycRegistry tx ${app.txHash}`,
      );
    }
  }

  /** The operator prepares the agreement, both parties sign it (EIP-712) and the operator anchors it on-chain. */
  private async agreement(n: number): Promise<void> {
    heading(n, "Financing agreement: prepared, signed by client A and the platform, anchored on-chain");
    const pool = await this.d.pool();
    const now = await this.d.chainTime();
    const agreementId = id(`marginbridge-demo:${this.state.runId}:clientA`);
    const platform = await this.d.devAccount(4); // the operator signs for the platform on the dev chain
    const engine = MarginEngine__factory.connect(this.contract("MarginEngine"), this.d.provider);
    const params = await engine.params();
    const tier1 = await engine.tierRisk(1);
    const bps = (wad: bigint): number => Number((wad * 10_000n) / WAD);
    const terms = {
      schema: "marginbridge/financing-terms@1",
      agreementId,
      version: 1,
      client: { address: this.address("clientA"), name: "Li Wei", accountRef: `MB-${this.state.runId}` },
      platform: { address: await platform.getAddress(), name: "MarginBridge Platform Ltd." },
      currency: { symbol: "mbCNY", iso4217: "CNY", decimals: 6 },
      ownFunds: OWN_FUNDS.toString(),
      leverageBps: Number(LEVERAGE) * 10_000,
      financedAmount: ((LEVERAGE - 1n) * OWN_FUNDS).toString(),
      interest: {
        annualRateBps: bps(BigInt(pool.pool.annualRate)),
        dayCount: "ACT/365",
        rounding: "cumulative-ceil",
        payment: "at-settlement",
      },
      margin: {
        initialMarginBps: bps(tier1.floor + tier1.initialBuffer),
        maintenanceMarginBps: bps(tier1.floor),
        liquidationMarginBps: bps((tier1.floor * params.hardFloorFactor) / WAD),
        marginCallWindowSeconds: Number(params.gracePeriod),
      },
      liquidation: {
        assetOrder: ["mbSMALL", "mbTECH", "mbBANK"],
        closeFactorBps: 10_000,
        penaltyBps: 500,
        penaltyToLiquidatorBps: bps(params.liquidatorShare),
        penaltyToInsuranceFundBps: 10_000 - bps(params.liquidatorShare),
      },
      fees: [
        {
          code: "COMMISSION",
          label: "Brokerage commission",
          kind: "per-trade",
          bps: 3,
          minimum: (5n * CNY).toString(),
        },
        { code: "MGMT", label: "Account management", kind: "daily-on-own-funds", annualBps: 200 },
      ],
      profitSplit: { clientBps: 8_000, capitalProvidersBps: 1_000, platformBps: 1_000 },
      defaultWaterfall: ["client-collateral", "insurance-fund", "capital-pool"],
      effectiveAt: now,
      expiresAt: now + 365 * 86_400,
      governingLaw: "Governed by the laws of the People's Republic of China",
      disputeResolution: "Disputes go first to the MarginBridge dispute desk, then to arbitration in Shanghai.",
    };
    const operator = this.d.staff("operator");
    type AgreementView = {
      status: string;
      termsHash: string;
      document: Parameters<typeof agreementMessage>[0];
      anchor: { txHash: string; blockNumber: number } | null;
    };
    const prepared = ok(
      await operator.post<AgreementView>("/v1/agreements", { terms }, `demo-${this.state.runId}-agreement`),
      "POST /v1/agreements",
    );
    say(`  prepared ${agreementId}: terms hash ${prepared.termsHash}`);
    say(
      `  ${prepared.document.text
        .split("\n")
        .find((l) => l.startsWith("4. Margin"))
        ?.slice(0, 160)}…`,
    );
    const domain = agreementDomain(this.cfg.chainId!, this.contract("AgreementRegistry"));
    const td = agreementTypedData(domain, agreementMessage(prepared.document));
    const sign = async (signer: Signer): Promise<string> => signer.signTypedData(td.domain, td.types, td.message);
    ok(
      await this.d
        .user("clientA")
        .post(
          `/v1/agreements/${agreementId}/signatures`,
          { signature: await sign(this.wallet("clientA")) },
          `demo-${this.state.runId}-sign-client`,
        ),
      "client signature",
    );
    ok(
      await operator.post(
        `/v1/agreements/${agreementId}/signatures`,
        { signature: await sign(platform) },
        `demo-${this.state.runId}-sign-platform`,
      ),
      "platform signature",
    );
    const anchored = ok(
      await operator.post<AgreementView>(
        `/v1/agreements/${agreementId}/anchor`,
        undefined,
        `demo-${this.state.runId}-anchor`,
      ),
      "POST /v1/agreements/:id/anchor",
    );
    this.state.facts.agreementId = agreementId;
    say(
      `  signed by both parties; status ${anchored.status}, anchored in AgreementRegistry (tx ${anchored.anchor?.txHash}, block ${anchored.anchor?.blockNumber})`,
    );
  }

  /** The custodian tokenizes what each user delivered: cash for client A and the provider, shares for the maker. */
  private async custody(n: number): Promise<void> {
    heading(n, "Custody: the custodian mints the tokens for what each user delivered");
    const custodian = await this.d.devAccount(2);
    const mints: [User, string, bigint][] = [
      ["clientA", "mbCNY", OWN_FUNDS],
      ["provider", "mbCNY", POOL_SUPPLY],
      ["marketMaker", "mbBANK", 30_000n],
      ["marketMaker", "mbSMALL", 40_000n],
    ];
    for (const [user, symbol, amount] of mints) {
      const token = CollateralToken__factory.connect(this.contract(symbol), custodian);
      const ref = id(`demo:${this.state.runId}:${user}:${symbol}`);
      if ((await token.balanceOf(this.address(user))) < amount)
        await (await token.mint(this.address(user), amount, ref)).wait();
      const held = await token.balanceOf(this.address(user));
      say(
        `  ${user.padEnd(12)} holds ${symbol === "mbCNY" ? cny(held) : count(held)} ${symbol} (custody ref ${ref.slice(0, 10)}…)`,
      );
    }
  }

  /**
   * The capital provider signs each class's agreement (EIP-712, anchored on the vault) and deposits from its own
   * wallet: 900,000 into the senior class and 100,000 into the junior (first-loss) class, without which nothing may
   * be lent (new borrowing needs junior assets of at least 10% of the debt).
   */
  private async supplyPool(n: number): Promise<void> {
    heading(n, "Capital pool: the capital provider supplies 1,000,000 mbCNY (senior and junior ERC-4626 classes)");
    const w = this.wallet("provider");
    const cash = CollateralToken__factory.connect(this.contract("mbCNY"), w);
    const classes = [
      {
        name: "senior",
        vault: TrancheVault__factory.connect(this.contract("SeniorTranche"), w),
        amount: POOL_SUPPLY - JUNIOR_SUPPLY,
      },
      {
        name: "junior",
        vault: TrancheVault__factory.connect(this.contract("JuniorTranche"), w),
        amount: JUNIOR_SUPPLY,
      },
    ];
    for (const c of classes) {
      if ((await c.vault.balanceOf(w.address)) === 0n) await supplyTranche(c.vault, w, cash, c.amount);
      const shares = await c.vault.balanceOf(w.address);
      const [termsHash, version] = await c.vault.agreementTerms();
      say(
        `  ${c.name}: agreement v${version} (${termsHash.slice(0, 10)}…) anchored; shares ` +
          `${formatUnits(shares, await c.vault.decimals())} (worth ${cny(await c.vault.convertToAssets(shares))} mbCNY)`,
      );
    }
    const p = await this.d.pool();
    say(
      `  pool: total assets ${cny(p.pool.totalAssets)}, utilisation ${pct(p.pool.utilisation)}, ` +
        `rate ${pct(p.pool.annualRate)} a year = ${pct(p.pool.ratePerDay, 6)} a day, ` +
        `insurance fund ${cny(p.insuranceFund.balance)}`,
    );
  }

  /** Client A deposits its 100,000 and borrows another 100,000 from the pool: 2× leverage. */
  private async margin(n: number): Promise<void> {
    heading(n, "Margin account: client A deposits 100,000 mbCNY and borrows 100,000 (2×)");
    const w = this.wallet("clientA");
    const engineAddress = this.contract("MarginEngine");
    const engine = MarginEngine__factory.connect(engineAddress, w);
    const cash = this.contract("mbCNY");
    if ((await engine.balanceOf(w.address, cash)) === 0n) {
      await (await CollateralToken__factory.connect(cash, w).approve(engineAddress, OWN_FUNDS)).wait();
      await (await engine.deposit(cash, OWN_FUNDS)).wait();
    }
    if ((await engine.debtOf(w.address))[0] === 0n) await (await engine.borrow((LEVERAGE - 1n) * OWN_FUNDS)).wait();
    const a = await this.d.account("clientA");
    say(`  cash ${cny(a.cash)}, debt ${cny(a.debt)}, equity ${cny(a.equity)}, state ${a.state}`);
    say(
      `  interest: ${pct(a.interest.annualRate)} a year, ${pct(a.interest.ratePerDay, 6)} a day = ${cny(a.interest.dailyInterest)} mbCNY a day on this debt`,
    );
  }

  /** The maker rests asks near the oracle price; client A buys across them; the batcher settles on-chain (DvP). */
  private async trading(n: number): Promise<void> {
    heading(n, "Trading: the market maker quotes, client A buys through the order book, trades settle on-chain");
    const maker = this.wallet("marketMaker");
    const engineAddress = this.contract("MarginEngine");
    const router = OracleRouter__factory.connect(this.contract("OracleRouter"), this.d.provider);
    const makerEngine = MarginEngine__factory.connect(engineAddress, maker);
    for (const { symbol } of PORTFOLIO) {
      const token = CollateralToken__factory.connect(this.contract(symbol), maker);
      const held = await token.balanceOf(maker.address);
      if (held > 0n) {
        await (await token.approve(engineAddress, held)).wait();
        await (await makerEngine.deposit(this.contract(symbol), held)).wait();
      }
    }
    const start = await this.d.account("clientA");
    const budget = (BigInt(start.cash) * 99n) / 100n; // 1% kept back for commissions
    const nonce = BigInt(this.state.facts.nonce ?? "1");
    let next = nonce;
    for (const { symbol, share } of PORTFOLIO) {
      const token = this.contract(symbol);
      const [oraclePrice] = await router.getPrice(token);
      // Ask 0.2% over the oracle, on the tick grid (price per whole share in mbCNY base units).
      const ask = (((oraclePrice * 1_002n) / 1_000n / 10n ** 12n + TICK - 1n) / TICK) * TICK;
      const quantity = (budget * share) / 100n / ask;
      const place = async (user: User, side: 0 | 1, limit: bigint, qty: bigint) => {
        const order: SignedOrderFields = {
          account: this.address(user),
          instrument: token,
          side,
          expiry: BigInt((await this.d.chainTime()) + 86_400),
          limitPrice: limit,
          quantity: qty,
          nonce: next++,
        };
        const domain = settlementDomain(this.cfg.chainId!, this.contract("SettlementHub"));
        const signature = await signOrder(this.wallet(user), domain, order);
        const body = {
          order: Object.fromEntries(
            Object.entries(order).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : v]),
          ),
          signature,
        };
        return ok(
          await this.d.user(user).post<{
            orderId: number;
            filledQuantity: string;
            restingQuantity: string;
            fills: { price: string; quantity: string }[];
          }>("/v1/orders", body),
          `POST /v1/orders (${user} ${side === 0 ? "buy" : "sell"} ${symbol})`,
        );
      };
      const askAck = await place("marketMaker", 1, ask, quantity);
      say(
        `  market maker asks ${count(quantity)} ${symbol} at ${cny(ask)} (oracle ${price(oraclePrice)}): order ${askAck.orderId} resting ${count(askAck.restingQuantity)}`,
      );
      const bid = await place("clientA", 0, ask, quantity);
      say(
        `  client A buys ${count(bid.filledQuantity)} ${symbol}: order ${bid.orderId}, fills ${bid.fills.map((f) => `${count(f.quantity)} @ ${cny(f.price)}`).join(", ")}`,
      );
      this.state.facts.nonce = next.toString();
      this.d.saveState();
    }
    const settled = await until("the settlement batcher to settle client A's trades on-chain", async () => {
      const a = await this.d.account("clientA");
      return a.positions.length === PORTFOLIO.length ? a : undefined;
    });
    for (const p of settled.positions) {
      say(
        `  settled: ${count(p.quantity)} ${p.token.symbol} at ${price(p.price)} = ${cny(p.value)} (tier ${p.liquidityTier}, maintenance ${pct(p.maintenanceMargin)})`,
      );
    }
    this.describe(settled);
    const L = Number(LEVERAGE);
    say(
      `  DESIGN.md's threshold r < (m·L − 1) / (L·(1 − m)) with L = ${L}, m = 15%: ` +
        `${(((0.15 * L - 1) / (L * (1 - 0.15))) * 100).toFixed(2)}% (the engine's figure above uses the live, volatility-adjusted margins and the cash left)`,
    );
  }

  /** Moves the market down until client A's account reaches `target`, re-reading the engine's lines each time. */
  private async fallTo(n: number, target: "Warning" | "MarginCall"): Promise<void> {
    heading(n, target === "Warning" ? "Prices fall: the account reaches Warning" : "Prices fall further: margin call");
    const reached = (a: AccountSummary): boolean =>
      target === "Warning" ? a.state !== "Healthy" : a.state === "MarginCall" || a.state === "Liquidatable";
    let a = await this.d.account("clientA");
    for (let i = 0; i < 16 && !reached(a); i++) {
      // Equity scales with the collateral's value; so do the lines. Aim between the two lines that bound `target`.
      const [upper, lower] =
        target === "Warning"
          ? [BigInt(a.warningLine), BigInt(a.maintenanceReq)]
          : [BigInt(a.maintenanceReq), BigInt(a.hardLine)];
      // Three quarters of the way down from the upper line: the fall itself raises the lines a little (the
      // router's volatility grows with every round), so aiming low would overshoot into the next state.
      const aim = lower + ((upper - lower) * 3n) / 4n;
      const fixed = BigInt(a.debt) - BigInt(a.cash);
      const scaling = BigInt(a.equity) + fixed;
      const factorBps = (fixed * 10_000n) / (scaling - aim);
      // At most 4% a time, then the lines are read again: the router's volatility is time-weighted (a return over
      // a few seconds counts as a day's worth of them), so the first rounds of a fall on the dev chain lift the
      // dynamic maintenance margin towards its cap, and lines read before the fall would aim far too deep.
      const moveBps = Math.min(Math.max(Number(factorBps - 10_000n), -400), -50);
      await this.moveMarket(a, moveBps, 200);
      a = await until(`the account to pass ${target}`, async () => {
        const now = await this.d.account("clientA");
        return reached(now) || (await this.marketSettled()) ? now : undefined;
      });
    }
    if (!reached(a)) throw new DemoError(`the account did not reach ${target}: ${a.state}`);
    this.describe(a);
    const kind = target === "Warning" ? "warning" : "margin_call";
    const notice = await until(`the keeper's ${kind} notice`, async () =>
      (await this.notices()).find((x) => x.kind === kind),
    );
    say(
      `  keeper notice: ${notice.kind}` +
        (notice.deadline ? `, deadline ${new Date(notice.deadline * 1000).toISOString()} (chain time)` : "") +
        (notice.amountToCure ? `, amount to cure ${cny(notice.amountToCure)} mbCNY` : ""),
    );
    if (target === "MarginCall") {
      this.state.facts.callDeadline = String(notice.deadline);
      this.state.facts.callBlock = String(notice.blockNumber);
      // New risk is blocked: a buy order is refused by pre-trade risk.
      const symbol = PORTFOLIO[0].symbol;
      const order: SignedOrderFields = {
        account: this.address("clientA"),
        instrument: this.contract(symbol),
        side: 0,
        expiry: BigInt((await this.d.chainTime()) + 3_600),
        limitPrice: (BigInt(a.positions.find((p) => p.token.symbol === symbol)!.price!) / 10n ** 12n / TICK) * TICK,
        quantity: 100n,
        nonce: BigInt(this.state.facts.nonce ?? "1"),
      };
      this.state.facts.nonce = (order.nonce + 1n).toString();
      const signature = await signOrder(
        this.wallet("clientA"),
        settlementDomain(this.cfg.chainId!, this.contract("SettlementHub")),
        order,
      );
      const res = await this.d
        .user("clientA")
        .post<{ error: { code: string; message: string; details: { reject?: string } } }>("/v1/orders", {
          order: Object.fromEntries(
            Object.entries(order).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : v]),
          ),
          signature,
        });
      say(
        `  client A tries to buy 100 more ${symbol}: ${res.status} ${res.body.error?.code} ${res.body.error?.details?.reject ?? ""} — ${res.body.error?.message ?? "accepted"}`,
      );
    }
  }

  /** The grace window passes uncured: the keeper liquidates in segments, least liquid first, back to the target. */
  private async liquidation(n: number): Promise<void> {
    heading(n, "The grace window passes uncured: the keeper liquidates, least liquid first");
    const before = await this.d.account("clientA");
    const deadline = Number(this.state.facts.callDeadline);
    // The dev chain's clock moves in two hops, so the oracle reporters post fresh rounds in between (prices are
    // Stale after an hour without one, and nothing is liquidated on a stale price).
    const half = Math.max(0, Math.floor((deadline - (await this.d.chainTime())) / 2));
    if (half > 0) {
      await this.d.advanceTime(half);
      const hopAt = await this.d.chainTime();
      await this.freshRounds(before);
      // A call no evaluation sees below maintenance for a whole grace period lapses (the chain cannot know the
      // account did not recover meanwhile): the keeper re-evaluates an account in a call once a quarter of the
      // grace period has passed since the last evaluation.
      const engine = MarginEngine__factory.connect(this.contract("MarginEngine"), this.d.provider);
      await until(
        "the keeper to see the margin call again",
        async () => (Number((await engine.recordedState(this.address("clientA")))[2]) >= hopAt ? true : undefined),
        180_000,
      );
      say("  the keeper re-evaluated the account: still below maintenance, the same call goes on");
    }
    const rest = deadline - (await this.d.chainTime()) + 30;
    if (rest > 0) await this.d.advanceTime(rest);
    say(`  chain time is now ${new Date((await this.d.chainTime()) * 1000).toISOString()}, past the deadline`);
    // The liquidation answering this margin call (the keeper may have sent it already, before a restart).
    const callBlock = Number(this.state.facts.callBlock);
    // The engine also waits until prices have been Safe for its oracle grace period (5 minutes on the dev chain).
    await until(
      "the keeper's liquidation",
      async () =>
        (await this.notices()).some((x) => x.kind === "liquidated" && (x.blockNumber ?? 0) > callBlock)
          ? true
          : undefined,
      420_000,
    );
    const after = await until("the account to leave the liquidatable states", async () => {
      const a = await this.d.account("clientA");
      return a.state !== "Liquidatable" && a.state !== "MarginCall" ? a : undefined;
    });
    for (const p of before.positions) {
      const q = after.positions.find((x) => x.token.symbol === p.token.symbol)?.quantity ?? "0";
      say(`  ${p.token.symbol} (tier ${p.liquidityTier}): ${count(p.quantity)} → ${count(q)}`);
    }
    say(`  debt ${cny(before.debt)} → ${cny(after.debt)}`);
    this.describe(after);
    const p = await this.d.pool();
    const owed = await MarginEngine__factory.connect(this.contract("MarginEngine"), this.d.provider).insuranceOwed();
    say(
      `  insurance fund ${cny(p.insuranceFund.balance)} mbCNY, plus ${cny(owed)} of penalty shares the engine holds ` +
        `for it until swept (MarginEngine.insuranceOwed)`,
    );
  }

  /**
   * An overnight gap: a fall beyond the router's 20% limit in one round trips the circuit breaker; the risk officer
   * checks it and resets the breaker; the keeper liquidates everything; the loss beyond the collateral is paid by
   * the insurance fund and written off against the pool.
   */
  private async gap(n: number): Promise<void> {
    heading(n, "The market gaps down overnight: breaker, default, insurance fund and pool");
    const a = await this.d.account("clientA");
    const poolBefore = await this.d.pool();
    const junior = TrancheVault__factory.connect(this.contract("JuniorTranche"), this.d.provider);
    const juniorPrice = async (): Promise<bigint> => junior.convertToAssets(10n ** BigInt(await junior.decimals()));
    const juniorBefore = await juniorPrice();
    const fixed = BigInt(a.debt) - BigInt(a.cash);
    // A fall to 85% of the level at which the collateral only just covers the debt (and at least 25%).
    const factorBps = (fixed * 8_500n) / BigInt(a.collateralValue);
    const moveBps = Math.min(-2_500, Number(factorBps - 10_000n));
    await this.moveMarket(a, moveBps, Math.abs(moveBps));
    const broken = await until("the oracle to flag the gap", async () => {
      const now = await this.d.account("clientA");
      return now.positions.every((p) => p.priceStatus === "CircuitBroken") ? now : undefined;
    });
    say(
      `  price status: ${broken.positions.map((p) => `${p.token.symbol} ${p.priceStatus}`).join(", ")}: no liquidation on these prices`,
    );
    const riskOfficer = await this.d.devAccount(3);
    const router = OracleRouter__factory.connect(this.contract("OracleRouter"), riskOfficer);
    for (const p of broken.positions) {
      await (await router.poke(p.token.address)).wait(); // records the trip if nobody has yet
      await (await router.resetCircuitBreaker(p.token.address)).wait();
      const [px, status] = await router.getPrice(p.token.address);
      say(
        `  risk officer confirms the ${p.token.symbol} move and resets its breaker: ${price(px)}, ${PRICE_STATUSES[Number(status)]}`,
      );
    }
    const grace = Number(
      (await MarginEngine__factory.connect(this.contract("MarginEngine"), this.d.provider).params()).oracleGrace,
    );
    await this.d.advanceTime(grace + 10);
    say(`  the engine waits ${grace} s of Safe prices after a breaker before liquidating (dev chain time moved on)`);
    const defaulted = await until(
      "the keeper to close the account out",
      async () => {
        const p = await this.d.pool();
        const mine = p.badDebtEvents.filter((e) => e.account?.toLowerCase() === this.address("clientA").toLowerCase());
        return mine.length > 0 ? p : undefined;
      },
      180_000,
    );
    const after = await this.d.account("clientA");
    say(
      `  client A after the close-out: positions ${after.positions.length}, cash ${cny(after.cash)}, debt ${cny(after.debt)}, state ${after.state}`,
    );
    for (const e of defaulted.badDebtEvents.filter((x) => x.block > poolBefore.block)) {
      say(`  ${e.kind.padEnd(20)} ${cny(e.amount)} mbCNY (block ${e.block}, tx ${e.txHash.slice(0, 12)}…)`);
    }
    say(
      `  insurance fund ${cny(poolBefore.insuranceFund.balance)} → ${cny(defaulted.insuranceFund.balance)}; ` +
        `pool total assets ${cny(poolBefore.pool.totalAssets)} → ${cny(defaulted.pool.totalAssets)}; ` +
        `senior share price ${formatUnits(poolBefore.pool.sharePrice, 6)} → ${formatUnits(defaulted.pool.sharePrice, 6)}, ` +
        `junior (first-loss) ${formatUnits(juniorBefore, 6)} → ${formatUnits(await juniorPrice(), 6)} mbCNY per share; ` +
        `written off in total ${cny(defaulted.pool.totalWrittenOff)}; open deficit ${cny(defaulted.pool.deficit)}`,
    );
  }

  /** The business day closes; the service builds the daily statement and the final settlement is computed. */
  private async statements(n: number): Promise<void> {
    heading(n, "The day closes: daily statement and final settlement");
    const now = await this.d.chainTime();
    const offset = BUSINESS_DAY_UTC_OFFSET_MINUTES * 60;
    const day = dateOfTimestamp(now, BUSINESS_DAY_UTC_OFFSET_MINUTES);
    const toMidnight = 86_400 - ((now + offset) % 86_400);
    await this.d.advanceTime(toMidnight + 600);
    say(`  business day ${day} (Beijing time) closed on the chain`);
    const operator = this.d.staff("operator");
    const built = await until("the indexer to hold the closed day", async () => {
      const r = await operator.post<{ statements: { agreementId: string; account: string; hash: string }[] }>(
        "/v1/statements/daily",
        { day },
      );
      if (r.status === 409) return undefined;
      return ok(r, "POST /v1/statements/daily");
    });
    const agreementId = this.state.facts.agreementId;
    const mine = built.statements.find((s) => s.agreementId === agreementId);
    if (!mine) throw new DemoError(`no statement for client A's agreement on ${day}`);
    say(`  ${built.statements.length} statement(s) built; client A's hash ${mine.hash}`);
    const doc = ok(
      await this.d.user("clientA").get<{ hash: string; body: string }>(`/v1/statements/${agreementId}/${day}`),
      "GET /v1/statements/:agreementId/:day",
    );
    const s = JSON.parse(doc.body) as {
      trades: unknown[];
      positionMovements?: { kind: string; asset: string; quantity: string; realisedPnl: string }[];
      totals: Record<string, string>;
      balances: Record<string, string>;
      margin: { status: string };
    };
    say(
      `  trades ${s.trades.length}; position movements: ${(s.positionMovements ?? []).map((m) => `${m.kind} ${count(m.quantity)} ${m.asset}`).join(", ")}`,
    );
    say(
      `  interest ${cny(s.totals.interest)}, fees ${cny(s.totals.fees)}, realised P&L ${cny(s.totals.realisedPnl)}, net P&L ${cny(s.totals.netPnl)}`,
    );
    say(
      `  closing cash ${cny(s.balances.closingCash)}, principal ${cny(s.balances.principal)}, equity ${cny(s.balances.equity)}, status ${s.margin.status}`,
    );

    const terms = ok(
      await operator.get<{ document: { terms: unknown } }>(`/v1/agreements/${agreementId}`),
      "GET agreement",
    ).document.terms;
    const pool = await this.d.pool();
    // Commissions are charged in the statement's cash when trades settle; what the account could not pay (its
    // cash went to the waterfall) is still owed at settlement, as a fee.
    const closingCash = BigInt(s.balances.closingCash);
    const feesDue = [
      { code: "MGMT", label: "Account management", amount: BigInt(s.balances.accruedFees) },
      { code: "COMMISSION", label: "Brokerage commission unpaid", amount: closingCash < 0n ? -closingCash : 0n },
    ].filter((f) => f.amount > 0n);
    const input = {
      terms,
      settledOn: day,
      closingCash: (closingCash > 0n ? closingCash : 0n).toString(),
      principal: s.balances.principal,
      interestDue: s.balances.accruedInterest,
      feesDue: feesDue.map((f) => ({ ...f, amount: f.amount.toString() })),
      insuranceFundAvailable: pool.insuranceFund.balance,
    };
    const settlement = ok(
      await operator.post<{ hash: string; text: string }>("/v1/settlements/compute", { input }),
      "POST /v1/settlements/compute",
    );
    say(`  final settlement ${settlement.hash}:`);
    for (const line of settlement.text.split("\n").filter((l) => l.trim())) say(`    ${line}`);
  }

  /** The operator publishes an epoch; client A fetches its proof; an auditor checks it and the ratios on-chain. */
  private async reserves(n: number): Promise<void> {
    heading(n, "Proof of reserves: an epoch is published; an auditor verifies client A's proof on-chain");
    const published = ok(
      await this.d
        .staff("operator")
        .post<{ epoch: string; root: string; leafCount: number; txHash: string }>(
          "/v1/reserves/publish",
          { minDepth: 4 },
          `demo-${this.state.runId}-reserves`,
        ),
      "POST /v1/reserves/publish",
    );
    say(`  epoch ${published.epoch}: root ${published.root}, ${published.leafCount} accounts, tx ${published.txHash}`);
    const proof = ok(await this.d.user("clientA").get("/v1/reserves/me/proof"), "GET /v1/reserves/me/proof");
    const file = parseClientProof(proof);
    const ledger = ReserveLedger__factory.connect(this.contract("ReserveLedger"), this.d.provider);
    const report = await auditClientProof(file, ledger);
    for (const line of formatReport(`auditor: client A's proof, epoch ${file.epoch}`, report).split("\n"))
      say(`  ${line}`);
    if (!report.ok) throw new DemoError("client A's proof did not verify");
    const epoch = ok(
      await this.d.public.get<{ assets: { asset: string; liabilities: string; reserves: string; ratio: string }[] }>(
        `/v1/reserves/epochs/${published.epoch}`,
      ),
      "GET /v1/reserves/epochs/:epoch",
    );
    const assets = (await ledger.assets()).map((x) => x.toLowerCase());
    const MAX = 2n ** 256n - 1n;
    for (const a of epoch.assets) {
      const token = this.cfg.tokens.find((t) => t.address.toLowerCase() === a.asset.toLowerCase());
      const onChain = await ledger.reserveRatio(BigInt(published.epoch), assets.indexOf(a.asset.toLowerCase()));
      const ratio = BigInt(a.ratio) === MAX ? "nothing owed" : pct(a.ratio);
      say(
        `  ${(token?.symbol ?? a.asset).padEnd(8)} reserves ${a.reserves} vs liabilities ${a.liabilities} (base units): ` +
          `ratio ${ratio}; ReserveLedger.reserveRatio on-chain ${onChain === MAX ? "max" : pct(onChain)}`,
      );
    }
  }

  // ─────────────────────────────────────────── helpers ───────────────────────────────────────────

  /** The risk officer schedules the same move on every security client A holds; waits until it is on the chain. */
  private async moveMarket(a: AccountSummary, moveBps: number, maxStepBps: number): Promise<void> {
    const officer = this.d.staff("risk_officer");
    for (const p of a.positions) {
      ok(
        await officer.post("/v1/dev/market/shocks", { symbol: p.token.symbol, moveBps, maxStepBps }),
        "POST /v1/dev/market/shocks",
      );
    }
    say(
      `  market: ${a.positions.map((p) => p.token.symbol).join(" and ")} move ${(moveBps / 100).toFixed(2)}% (risk officer, /v1/dev/market)`,
    );
    await until("the move to reach the oracle", async () => ((await this.marketSettled()) ? true : undefined));
  }

  /** True once the simulator has no move pending and the router's prices match it (the rounds are relayed). */
  private async marketSettled(): Promise<boolean> {
    const m = ok(
      await this.d
        .staff("risk_officer")
        .get<{ assets: { symbol: string; price: string; pendingMoveBps: number }[] }>("/v1/dev/market"),
      "GET /v1/dev/market",
    );
    if (m.assets.some((x) => x.pendingMoveBps !== 0)) return false;
    const router = OracleRouter__factory.connect(this.contract("OracleRouter"), this.d.provider);
    for (const x of m.assets) {
      const [onChain] = await router.getPrice(this.contract(x.symbol));
      const model = BigInt(x.price) * 10n ** 10n;
      // within the reporters' 0.5% deviation band
      if (onChain === 0n || (model > onChain ? model - onChain : onChain - model) * 200n > onChain) return false;
    }
    return true;
  }

  /** Waits for a round newer than the chain's current time on every held security (reporters use chain time). */
  private async freshRounds(a: AccountSummary): Promise<void> {
    const since = await this.d.chainTime();
    const router = OracleRouter__factory.connect(this.contract("OracleRouter"), this.d.provider);
    await until("fresh oracle rounds", async () => {
      for (const p of a.positions) {
        const [, , updatedAt] = await router.getPrice(p.token.address);
        if (Number(updatedAt) < since - 60) return undefined;
      }
      return true;
    });
  }

  private async notices(): Promise<Notice[]> {
    return ok(
      await this.d.user("clientA").get<{ notifications: Notice[] }>("/v1/keeper/notifications"),
      "GET /v1/keeper/notifications",
    ).notifications;
  }

  /** The account as the engine sees it. */
  private describe(a: AccountSummary): void {
    say(
      `  client A: state ${a.state}, equity ${cny(a.equity)}, positions ${cny(a.positionValue)}, debt ${cny(a.debt)}, ` +
        `margin ratio ${pct(a.marginRatio)} (maintenance line ${cny(a.maintenanceReq)}, warning ${cny(a.warningLine)}, hard ${cny(a.hardLine)})`,
    );
    say(`  engine's liquidation threshold: a uniform move of ${pct(a.liquidationReturn)} reaches maintenance`);
  }
}

async function main(): Promise<void> {
  const dataDir = path.resolve(configFromEnv(process.env).dataDir);
  const demo = new Demo(dataDir);
  try {
    await demo.run();
  } finally {
    demo.close();
  }
}

main().catch((err) => {
  console.error(err instanceof DemoError ? `npm run demo: ${err.message}` : err);
  process.exit(1);
});
