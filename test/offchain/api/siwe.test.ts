import { expect } from "chai";
import { Wallet } from "ethers";
import {
  authRoutes,
  formatSiweMessage,
  parseSiweMessage,
  type SessionSettings,
  type SiweMessage,
} from "../../../offchain/api";
import { startTestApi, type TestApi } from "../../helpers/api";
import { createTestDatabase } from "../../helpers/postgres";

const CHAIN_ID = 31337;
const SETTINGS: SessionSettings = { ttlMs: 600_000, nonceTtlMs: 120_000, domains: [], chainId: CHAIN_ID };

/** What a browser does: the service's host as the domain, its origin as the URI. */
function messageFor(api: TestApi, wallet: { address: string }, nonce: string, over: Partial<SiweMessage> = {}): string {
  const host = new URL(api.running.url).host;
  return formatSiweMessage({
    domain: host,
    address: wallet.address,
    statement: "Sign in to MarginBridge.",
    uri: api.running.url,
    version: "1",
    chainId: CHAIN_ID,
    nonce,
    issuedAt: new Date().toISOString(),
    ...over,
  });
}

async function nonceOf(api: TestApi): Promise<string> {
  const r = await api.anonymous.post<{ nonce: string; chainId: number }>("/v1/auth/nonce");
  expect(r.status).to.equal(201);
  expect(r.body.chainId).to.equal(CHAIN_ID);
  return r.body.nonce;
}

async function signIn(api: TestApi, message: string, signature: string) {
  return api.anonymous.post<{ address: string; sessionId: string; error?: { details: { reason: string } } }>(
    "/v1/auth/siwe",
    { message, signature },
  );
}

function cookieOf(res: { headers: Headers }): string {
  const set = res.headers.get("set-cookie") ?? "";
  return set.split(";")[0];
}

/** The wallet sign-in on one store: sessions are rows of the store, so each behaviour holds on both engines. */
function behaviours(engine: "sqlite" | "postgres", port: number): void {
  describe(`wallet sign-in (EIP-4361) on ${engine}`, function () {
    this.timeout(30_000);
    let api: TestApi;
    let drop: (() => Promise<void>) | undefined;
    const wallet = new Wallet(Wallet.createRandom().privateKey);

    before(async function () {
      let postgresUrl: string | undefined;
      if (engine === "postgres") {
        const db = await createTestDatabase("mb_siwe");
        if ("skip" in db) {
          console.log(`    skipping: ${db.skip}`);
          this.skip();
        }
        drop = db.drop;
        postgresUrl = db.url;
      }
      api = await startTestApi({
        port,
        postgresUrl,
        setup: async (store) => ({ capabilities: [authRoutes({ store, settings: SETTINGS })] }),
      });
    });
    after(async () => {
      await api?.close();
      await drop?.();
    });

    it("signs in: an HttpOnly SameSite=Strict cookie bound to the address and the client role, audited", async function () {
      const message = messageFor(api, wallet, await nonceOf(api));
      const res = await signIn(api, message, await wallet.signMessage(message));
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.address).to.equal(wallet.address);
      const set = res.headers.get("set-cookie")!;
      expect(set).to.match(/^mb_session=mbs_[0-9a-f]{64}; Path=\/; Max-Age=(599|600); HttpOnly; SameSite=Strict$/);
      const me = await api.anonymous.request<{ role: string; subject: string; keyId: string }>("GET", "/v1/me", {
        headers: { cookie: cookieOf(res) },
      });
      expect(me.status).to.equal(200);
      expect(me.body).to.deep.equal({
        keyId: res.body.sessionId,
        role: "client",
        subject: wallet.address.toLowerCase(),
      });
      const audit = await api.store.audit.list(0, 100);
      expect(audit.some((e) => e.action === "auth.siwe.signIn" && e.actor === res.body.sessionId)).to.equal(true);
      // the session is a client's: staff routes stay closed to it
      const staff = await api.anonymous.request("GET", "/v1/audit", { headers: { cookie: cookieOf(res) } });
      expect(staff.status).to.equal(403);
    });

    it("refuses a reused nonce, another domain, another chain, an expired message and a signature of someone else", async function () {
      const reason = async (message: string, signer = wallet) => {
        const r = await signIn(api, message, await signer.signMessage(message));
        expect(r.status, JSON.stringify(r.body)).to.equal(401);
        return r.body.error!.details.reason;
      };
      const nonce = await nonceOf(api);
      const good = messageFor(api, wallet, nonce);
      expect((await signIn(api, good, await wallet.signMessage(good))).status).to.equal(200);
      expect(await reason(good)).to.equal("replayed_nonce");
      expect(await reason(messageFor(api, wallet, await nonceOf(api), { domain: "evil.example" }))).to.equal(
        "wrong_domain",
      );
      expect(await reason(messageFor(api, wallet, await nonceOf(api), { chainId: 1 }))).to.equal("wrong_chain");
      const past = new Date(Date.now() - 1000).toISOString();
      expect(await reason(messageFor(api, wallet, await nonceOf(api), { expirationTime: past }))).to.equal("expired");
      const old = new Date(Date.now() - SETTINGS.nonceTtlMs - 60_000).toISOString();
      expect(await reason(messageFor(api, wallet, await nonceOf(api), { issuedAt: old }))).to.equal("expired");
      expect(await reason(messageFor(api, wallet, "neverIssued1"))).to.equal("replayed_nonce");
      const other = new Wallet(Wallet.createRandom().privateKey);
      expect(await reason(messageFor(api, wallet, await nonceOf(api)), other)).to.equal("bad_signature");
      // a refused sign-in leaves its nonce unused: the right message with it still works
      const n = await nonceOf(api);
      expect(await reason(messageFor(api, wallet, n, { chainId: 5 }))).to.equal("wrong_chain");
      const retry = messageFor(api, wallet, n);
      expect((await signIn(api, retry, await wallet.signMessage(retry))).status).to.equal(200);
    });

    it("one nonce opens one session even when the same signed message is sent many times at once", async function () {
      const message = messageFor(api, wallet, await nonceOf(api));
      const signature = await wallet.signMessage(message);
      const all = await Promise.all(Array.from({ length: 8 }, () => signIn(api, message, signature)));
      expect(all.filter((r) => r.status === 200)).to.have.length(1);
      expect(all.filter((r) => r.status === 401)).to.have.length(7);
    });

    it("logout and the operator's revocation end sessions at once", async function () {
      const open = async () => {
        const message = messageFor(api, wallet, await nonceOf(api));
        return cookieOf(await signIn(api, message, await wallet.signMessage(message)));
      };
      const me = (cookie: string) => api.anonymous.request("GET", "/v1/me", { headers: { cookie } });
      const first = await open();
      const out = await api.anonymous.request<{ revoked: boolean }>("POST", "/v1/auth/logout", {
        headers: { cookie: first },
      });
      expect(out.status).to.equal(200);
      expect(out.body.revoked).to.equal(true);
      expect(out.headers.get("set-cookie")).to.match(/^mb_session=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict/);
      const after = await me(first);
      expect(after.status).to.equal(401);
      expect((after.body as { error: { details: { reason: string } } }).error.details.reason).to.equal("session_ended");

      const [a, b] = [await open(), await open()];
      expect((await me(a)).status).to.equal(200);
      const revoked = await api
        .client("operator")
        .post<{ revoked: number }>("/v1/admin/sessions/revoke", { address: wallet.address });
      expect(revoked.status).to.equal(200);
      expect(revoked.body.revoked).to.be.at.least(2);
      expect((await me(a)).status).to.equal(401);
      expect((await me(b)).status).to.equal(401);
      // a client may not revoke
      expect(
        (await api.client("client").post("/v1/admin/sessions/revoke", { address: wallet.address })).status,
      ).to.equal(403);
    });

    it("refuses a forged or malformed cookie", async function () {
      for (const cookie of ["mb_session=mbs_" + "0".repeat(64), "mb_session=nonsense", "mb_session="]) {
        const r = await api.anonymous.request("GET", "/v1/me", { headers: { cookie } });
        expect(r.status, cookie).to.equal(401);
      }
    });
  });
}

describe("EIP-4361 message grammar", function () {
  const wallet = new Wallet(Wallet.createRandom().privateKey);
  const base: SiweMessage = {
    domain: "localhost:8080",
    address: wallet.address,
    uri: "http://localhost:8080",
    version: "1",
    chainId: 31337,
    nonce: "abcdef0123456789",
    issuedAt: "2026-12-07T00:00:00.000Z",
  };

  it("parses what it formats, with and without the optional fields", function () {
    for (const m of [
      base,
      {
        ...base,
        scheme: "https",
        statement: "Sign in.",
        expirationTime: "2026-12-07T00:10:00Z",
        notBefore: "2026-12-07T00:00:00Z",
        requestId: "r-1",
        resources: ["https://example.com/a", "ipfs://x"],
      },
    ])
      expect(parseSiweMessage(formatSiweMessage(m))).to.deep.equal(m);
  });

  it("refuses a lower-case address, a missing blank line, a version 2 and trailing lines", function () {
    const text = formatSiweMessage(base);
    for (const bad of [
      text.replace(wallet.address, wallet.address.toLowerCase()),
      text.replace("\n\nURI", "\nURI"),
      text.replace("Version: 1", "Version: 2"),
      text + "\nExtra: line",
      text.replace("Nonce: abcdef0123456789", "Nonce: short"),
    ])
      expect(() => parseSiweMessage(bad)).to.throw(/sign-in message/);
  });
});

behaviours("sqlite", 18191);
behaviours("postgres", 18192);
