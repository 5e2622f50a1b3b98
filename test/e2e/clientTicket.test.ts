import { expect } from "chai";
import { existsSync } from "node:fs";
import path from "node:path";
import { Wallet, getBytes, hexlify, randomBytes, type JsonRpcSigner } from "ethers";
import type { Browser, Page } from "playwright-core";
import { ApiClient, createApiKey } from "../../offchain/api";
import { acknowledgementDomain } from "../../offchain/kyc";
import { agreementDomain, agreementMessage, agreementTypedData, buildAgreement } from "../../offchain/settlement/legal";
import { toWire } from "../../offchain/settlement/wire";
import { DEV_KEYS } from "../../offchain/shared/config";
import { AgreementBinding__factory } from "../../typechain-types";
import { seedTerms } from "../../fixtures/legalSeed";
import { seedSummaryAcknowledged } from "../helpers/kyc";
import { hardhatDevWallets } from "../../offchain/oracle";
import { expectTranslated } from "../helpers/consoleText";
import { CHROMIUM, CNY, SHOTS, launchChromium } from "../helpers/e2eStack";
import { mine } from "../helpers/devChain";
import { TradingStack } from "../helpers/tradingStack";

const CHAIN_PORT = 8785;
const API_PORT = 18785;
const CLIENT = 10;

interface Simulation {
  after: { positions: { symbol: string; liquidationPrice: string | null }[]; liquidationPrice: string | null };
}

/**
 * The client console with a wallet, in headless Chromium: a scripted EIP-1193 provider is injected into the page
 * (window.ethereum), answering eth_requestAccounts, personal_sign and eth_signTypedData_v4 with a node-side ethers
 * Wallet holding the client's key. The client signs in with it (EIP-4361), sizes and simulates an order in the
 * ticket — the simulator's figures on screen before the wallet is asked to sign — places it, and sees the fill in its
 * history settled on-chain with its transaction.
 */
describe("client console: wallet sign-in, order ticket, simulator, history (Chromium e2e)", function () {
  this.timeout(180_000);
  let t: TradingStack;
  let browser: Browser;
  let page: Page;
  let signer: JsonRpcSigner;
  let asClient: ApiClient;
  const key = new Wallet(hardhatDevWallets([CLIENT])[0].privateKey);
  /** What the wallet was asked, in order, with what the page showed at that moment. */
  const calls: { method: string; simulationShown?: boolean; typed?: { primaryType: string; message: unknown } }[] = [];

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      console.log(`skipping: ${CHROMIUM} is absent`);
      this.skip();
    }
    const started = performance.now();
    t = await TradingStack.start(CHAIN_PORT, API_PORT, [CLIENT]);
    signer = await t.dev.chain.provider.getSigner(CLIENT);
    // 30,000 CNY of its own and 30,000 borrowed: the buy below leaves debt above cash, so a liquidation price
    await t.stack.mint("mbCNY", signer, 30_000n * CNY, "ticket-client");
    await t.stack.deposit(signer, "mbCNY", 30_000n * CNY);
    await t.stack.borrow(signer, 30_000n * CNY);
    asClient = await t.client(signer);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await page.exposeFunction("__mbWallet", async (method: string, params: unknown[]) => {
      if (method === "eth_requestAccounts" || method === "eth_accounts") {
        calls.push({ method });
        return [key.address];
      }
      if (method === "personal_sign") {
        calls.push({ method });
        return key.signMessage(getBytes(String(params[0])));
      }
      if (method === "eth_signTypedData_v4") {
        const typed = JSON.parse(String(params[1]));
        const simulationShown = await page.isVisible("#simulation-table");
        calls.push({ method, simulationShown, typed });
        delete typed.types.EIP712Domain;
        return key.signTypedData(typed.domain, typed.types, typed.message);
      }
      if (method === "eth_sendTransaction") {
        const tx = params[0] as { from: string; to: string; data: string };
        calls.push({ method });
        const sent = await key.connect(t.dev.chain.provider).sendTransaction({ to: tx.to, data: tx.data });
        await sent.wait();
        return sent.hash;
      }
      throw new Error(`the scripted wallet does not do ${method}`);
    });
    await page.addInitScript(() => {
      const bridge = (window as unknown as { __mbWallet(m: string, p: unknown[]): Promise<unknown> }).__mbWallet;
      (window as unknown as { ethereum: unknown }).ethereum = {
        isScripted: true,
        request: ({ method, params }: { method: string; params?: unknown[] }) => bridge(method, params ?? []),
      };
    });
    console.log(`      setup ${Math.round(performance.now() - started)} ms`);
  });

  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it("signs in with the wallet (EIP-4361): a session cookie no script can read, no secret in the page's storage", async () => {
    await page.goto(`${t.service.url}/console/client.html?lang=en`);
    await page.click("#wallet-sign-in");
    await page.waitForSelector("#account:not([hidden])", { timeout: 15_000 });
    expect(await page.textContent("#key-status")).to.contain(key.address);
    expect(calls.map((c) => c.method)).to.deep.equal(["eth_requestAccounts", "personal_sign"]);
    const storage = await page.evaluate(() => ({
      session: Object.keys(sessionStorage),
      local: localStorage.length,
      cookie: document.cookie,
    }));
    expect(storage).to.deep.equal({ session: ["mb.console.wallet"], local: 0, cookie: "" });
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === "mb_session")!;
    expect(session.httpOnly).to.equal(true);
    expect(session.sameSite).to.equal("Strict");
    await page.waitForSelector("#ticket-section:not([hidden])");
  });

  it("sizes to a risk budget and shows the simulator's figures before the wallet signs; places a limit order", async () => {
    await t.ask(10n * CNY, 4_000n);
    await page.selectOption("#ticket select[name=type]", "limit");
    await page.selectOption("#ticket select[name=instrument]", "mbBANK");
    await page.fill("#ticket input[name=limitPrice]", "10");
    await page.fill("#ticket input[name=riskBps]", "100");
    await page.fill("#ticket input[name=sizingStop]", "9.5");
    await page.click("#sizing-suggest");
    await page.waitForFunction(() => document.getElementById("sizing-result")?.textContent?.startsWith("Suggested"));
    // 1% of the equity (30,000 CNY less accrued interest) over a 0.50 stop distance, in shares
    const suggested = Number(await page.inputValue("#ticket input[name=quantity]"));
    expect(suggested).to.be.within(590, 600);

    await page.fill("#ticket input[name=quantity]", "4000");
    expect(await page.isDisabled("#ticket-place")).to.equal(true);
    await page.click("#ticket-preview");
    await page.waitForSelector("#simulation-table", { timeout: 15_000 });
    const shown = await page.textContent("#sim-liquidation-after");
    const api = await asClient.post<Simulation>("/v1/simulate", {
      action: {
        kind: "order",
        side: "buy",
        instrument: "mbBANK",
        quantity: "4000",
        limitPrice: (10n * CNY).toString(),
      },
    });
    const wad = BigInt(api.body.after.positions[0].liquidationPrice!);
    const fourPlaces = (wad * 10_000n) / 10n ** 18n; // the page shows 4 places, truncated
    const expected = `${fourPlaces / 10_000n}.${(fourPlaces % 10_000n).toString().padStart(4, "0")}`;
    expect(shown).to.equal(expected);
    expect(await page.textContent("#sim-liquidation-before")).to.equal("—");
    expect(await page.textContent("#sim-verdict")).to.equal("The engine would accept this.");
    expect(await page.textContent("#sim-costs")).to.match(/break-even move 0\.\d{3}%/);
    await page.screenshot({ path: path.join(SHOTS, "console-ticket-simulated.png"), fullPage: true });

    await page.click("#ticket-place");
    await page.waitForFunction(() => document.getElementById("ticket-status")?.textContent?.startsWith("Placed"), {
      timeout: 15_000,
    });
    const signing = calls.find((c) => c.method === "eth_signTypedData_v4")!;
    expect(signing.simulationShown).to.equal(true);
    expect(signing.typed!.primaryType).to.equal("Order");
    expect(signing.typed!.message).to.include({ account: key.address, quantity: "4000", limitPrice: "10000000" });
  });

  it("shows the fill in the history with its settlement status and transaction", async () => {
    await page.waitForSelector("#fills tbody tr[data-trade]", { timeout: 15_000 });
    for (let i = 0; i < 100; i++) {
      await mine(t.dev.chain);
      await page.reload();
      const settled = await page
        .waitForSelector("#fills td.settlement:has-text('settled on-chain')", { timeout: 1_500 })
        .catch(() => null);
      if (settled) break;
    }
    const rowText = await page.textContent("#fills tbody tr[data-trade]");
    expect(rowText).to.contain("settled on-chain");
    expect(rowText).to.contain("mbBANK");
    expect(await page.getAttribute("#fills td.tx", "title")).to.match(/^0x[0-9a-f]{64}$/);
    await page.waitForSelector("#positions tbody td:has-text('mbBANK')", { timeout: 15_000 });
    await page.screenshot({ path: path.join(SHOTS, "console-history.png"), fullPage: true });
  });

  it("places a stop and an OCO pair from the ticket, signed in the wallet; the service arms them and the page lists them", async () => {
    const answers: number[] = [];
    const posted = async (fill: () => Promise<void>) => {
      await fill();
      await page.click("#ticket-preview");
      await page.waitForFunction(() => document.getElementById("ticket-status")?.textContent?.includes("simulation"));
      const request = page.waitForRequest((r) => r.url().endsWith("/v1/orders") && r.method() === "POST");
      const response = page.waitForResponse((r) => r.url().endsWith("/v1/orders") && r.request().method() === "POST");
      await page.click("#ticket-place");
      answers.push((await response).status());
      return JSON.parse((await request).postData()!);
    };
    const stop = await posted(async () => {
      await page.selectOption("#ticket select[name=type]", "stop");
      await page.selectOption("#ticket select[name=side]", "sell");
      await page.fill("#ticket input[name=quantity]", "4000");
      await page.fill("#ticket input[name=limitPrice]", "8.5");
      await page.fill("#ticket input[name=triggerPrice]", "9");
    });
    expect(Object.keys(stop).sort()).to.deep.equal(["order", "signature", "trigger", "type"]);
    expect(stop.type).to.equal("stop");
    expect(stop.trigger).to.deep.equal({ price: "9000000" });
    expect(stop.order).to.include({ side: 1, quantity: "4000", limitPrice: "8500000", account: key.address });
    expect(stop.signature.r).to.match(/^0x[0-9a-f]{64}$/);
    const oco = await posted(async () => {
      await page.selectOption("#ticket select[name=type]", "oco");
      await page.fill("#ticket input[name=takeProfitPrice]", "12");
      await page.fill("#ticket input[name=stopPrice]", "9");
    });
    expect(oco.type).to.equal("oco");
    expect(oco.legs.map((l: { type: string; trigger: unknown }) => [l.type, l.trigger])).to.deep.equal([
      ["takeProfit", { price: "12000000" }],
      ["stop", { price: "9000000" }],
    ]);
    expect(oco.legs[0].order.nonce).to.not.equal(oco.legs[1].order.nonce);
    // the service took both (reduce-only: the 4,000 mbBANK bought above), and the protective list shows them armed
    expect(answers).to.deep.equal([201, 201]);
    const armed = (
      await asClient.get<{ protective: { type: string; status: string; stopPrice: string }[] }>("/v1/orders")
    ).body.protective;
    expect(armed.map((p) => [p.type, p.status, p.stopPrice]).sort()).to.deep.equal(
      [
        ["stop", "armed", "9000000"],
        ["stop", "armed", "9000000"],
        ["takeProfit", "armed", "12000000"],
      ].sort(),
    );
    await page.reload();
    await page.waitForSelector("#protective tbody tr:nth-child(3)", { timeout: 15_000 });
    expect(await page.textContent("#protective tbody")).to.contain("9.00");
  });

  it("sees the stop fire when the price falls through it, and its pre-signed child's fill settle in the history", async () => {
    // the maker bids for the 4,000 (cash of its own), the oracle goes to 9.50 first so the bid is inside the band
    await t.stack.mint("mbCNY", t.maker, 40_000n * CNY, "ticket-maker-cash");
    await t.stack.deposit(t.maker, "mbCNY", 40_000n * CNY);
    const book = t.service.orderbook!.service("mbBANK").engine.protective;
    const oracle = async (price: string, ticks: number) => {
      await t.stack.relayPrices({ mbBANK: price, mbTECH: "50", mbSMALL: "20" });
      for (let i = 0; i < 200 && book.oraclePrice !== ticks; i++) await new Promise((r) => setTimeout(r, 100));
      expect(book.oraclePrice).to.equal(ticks);
    };
    await oracle("9.5", 950);
    const bid = await (
      await t.client(t.maker)
    ).post("/v1/orders", await t.order(t.maker, 0, "mbBANK", (88n * CNY) / 10n, 4_000n));
    expect(bid.status, JSON.stringify(bid.body)).to.equal(201);
    await oracle("8.9", 890);
    // the first stop sells the 4,000 at the bid; the OCO's stop finds nothing left (reduce-only) and is cancelled
    await page.waitForSelector("#protective tbody td:has-text('Fired: 4,000')", { timeout: 20_000 }).catch(async () => {
      await page.reload();
      await page.waitForSelector("#protective tbody td:has-text('Fired')", { timeout: 20_000 });
    });
    const after = (await asClient.get<{ protective: { type: string; status: string }[] }>("/v1/orders")).body
      .protective;
    expect(after.filter((p) => p.status === "fired")).to.have.length(1);
    expect(after.filter((p) => p.status === "cancelled")).to.have.length(2);
    for (let i = 0; i < 100; i++) {
      await mine(t.dev.chain);
      await page.reload();
      const settled = await page
        .waitForSelector("#fills tbody tr:has-text('8.80') td.settlement:has-text('settled on-chain')", {
          timeout: 1_500,
        })
        .catch(() => null);
      if (settled) break;
    }
    expect(await page.textContent("#fills tbody")).to.match(/8\.80[\s\S]*settled on-chain/);
    await page.screenshot({ path: path.join(SHOTS, "console-stop-fired.png"), fullPage: true });
  });

  it("accepts the binding the operator proposed for its anchored agreement, from the wallet (eth_sendTransaction)", async () => {
    // The operator prepares a new agreement for the client, both sign, the operator anchors it and proposes its
    // binding through the API; the client accepts it in the console.
    const operatorKey = hardhatDevWallets([4])[0];
    const secret = Buffer.from(DEV_KEYS.apiSecretKey, "hex");
    const asOperator = new ApiClient(
      t.service.url,
      await createApiKey(t.service.store, secret, { role: "operator", subject: "ops", label: "binding" }),
    );
    const record = t.dev.record;
    await seedSummaryAcknowledged(
      t.service.store,
      acknowledgementDomain(record.chainId, record.contracts.KycRegistry),
      key,
    );
    const now = (await t.dev.chain.provider.getBlock("latest"))!.timestamp;
    const terms = seedTerms(key.address, operatorKey.address, {
      agreementId: hexlify(randomBytes(32)),
      effectiveAt: now,
      expiresAt: now + 365 * 86_400,
    });
    const id = terms.agreementId;
    expect((await asOperator.post("/v1/agreements", { terms: toWire(terms) })).status).to.equal(201);
    const td = agreementTypedData(
      agreementDomain(record.chainId, record.contracts.AgreementRegistry),
      agreementMessage(buildAgreement(terms)),
    );
    for (const [who, signerKey] of [
      [asClient, key],
      [asOperator, operatorKey],
    ] as const)
      await who.post(`/v1/agreements/${id}/signatures`, {
        signature: await signerKey.signTypedData(td.domain, td.types, td.message),
      });
    expect((await asOperator.post(`/v1/agreements/${id}/anchor`)).status).to.equal(200);
    const proposed = await asOperator.post<{ binding: { state: string } }>(`/v1/agreements/${id}/binding`);
    expect([proposed.status, proposed.body.binding.state]).to.deep.equal([200, "proposed"]);

    await page.goto(`${t.service.url}/console/client.html?lang=en`);
    const cell = `#agreements tbody tr:has-text('${id.slice(0, 8)}')`;
    await page.waitForSelector(`${cell} button:has-text('Accept with wallet')`, { timeout: 15_000 });
    expect(await page.textContent(cell)).to.contain("leverage at most 2.00× · liquidation penalty at most 5.00%");
    await page.click(`${cell} button`);
    await page.waitForSelector(`${cell}:has-text('bound to your margin account')`, { timeout: 15_000 });
    expect(calls.at(-1)!.method).to.equal("eth_sendTransaction");
    const binding = AgreementBinding__factory.connect(record.contracts.AgreementBinding, t.dev.chain.provider);
    const bound = await binding.bindingOf(key.address);
    expect([bound.agreementId, bound.maxLeverage, bound.maxPenalty]).to.deep.equal([
      id,
      2n * 10n ** 18n,
      5n * 10n ** 16n,
    ]);
    await page.screenshot({ path: path.join(SHOTS, "console-agreement-bound.png"), fullPage: true });
  });

  it("has every text in both languages, then logs out (the session is revoked)", async () => {
    await page.goto(`${t.service.url}/console/client.html?lang=en`);
    await page.waitForSelector("#simulation");
    await expectTranslated(page, "en", "client with ticket");
    await page.goto(`${t.service.url}/console/client.html?lang=zh-CN`);
    await page.waitForSelector("#ticket-section:not([hidden])");
    await page.waitForSelector("#fills tbody tr[data-trade]");
    await expectTranslated(page, "zh-CN", "client with ticket");
    await page.screenshot({ path: path.join(SHOTS, "console-ticket-zh.png"), fullPage: true });
    const cookie = (await page.context().cookies()).find((c) => c.name === "mb_session")!;
    await page.click("#sign-out");
    await page.waitForSelector("#wallet-sign-in:not([hidden])");
    const after = await fetch(`${t.service.url}/v1/me`, { headers: { cookie: `mb_session=${cookie.value}` } });
    expect(after.status).to.equal(401);
  });
});
