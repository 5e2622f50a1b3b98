/**
 * Gas of the capital providers' calls (issue 19): anchoring an agreement, deposits into each class, redemption
 * requests (queued behind a notice period, or served at once), serving the queue per request, and claims. On the same
 * deployment as the tests (marginFixture: 1,000,000 senior, 250,000 junior), with 600,000 lent to a margin account.
 */
import type { GasContext } from "./types";
import { gasOf } from "./types";
import { CNY, marginFixture } from "../../fixtures/margin";
import { verify } from "../../fixtures/core";
import { ensureProviderAgreement, signProviderAgreement } from "../../scripts/deploy/providers";

export async function measure({ hre, emit }: GasContext): Promise<void> {
  const fx = await marginFixture();
  const { pool, senior, junior, engine } = fx;
  const line = (contract: string, method: string, gas: number, extra: Record<string, string | number> = {}): void =>
    emit({ contract, method, gas, ...extra });
  const providers = fx.actors.users.slice(6, 10);
  for (const [i, p] of providers.entries()) {
    await verify(fx, p.address, 1);
    await fx.cash.connect(fx.actors.custodian).mint(p.address, 1_000_000n * CNY, hre.ethers.id(`gas-provider-${i}`));
    for (const v of [senior, junior]) await fx.cash.connect(p).approve(await v.getAddress(), hre.ethers.MaxUint256);
  }
  // Something lent, so that deposits and services accrue interest and the senior target.
  // (client C is a 5× tier)
  await fx.fundAccount(fx.clientC, fx.cash, 200_000n * CNY);
  await engine.connect(fx.clientC).borrow(600_000n * CNY);

  const [a, b, c, d] = providers;
  const signed = await signProviderAgreement(senior, a);
  line(
    "TrancheVault",
    "anchorAgreement",
    await gasOf(senior.anchorAgreement(a.address, signed.signedAt, signed.signature)),
    {
      case: "ECDSA, the provider's first",
    },
  );
  line("TrancheVault", "deposit", await gasOf(senior.connect(a).deposit(100_000n * CNY, a.address)), {
    case: "senior, a provider's first",
  });
  line("TrancheVault", "deposit", await gasOf(senior.connect(a).deposit(50_000n * CNY, a.address)), {
    case: "senior, repeat",
  });
  for (const p of [a, b, c, d]) await ensureProviderAgreement(junior, p);
  line("TrancheVault", "deposit", await gasOf(junior.connect(a).deposit(100_000n * CNY, a.address)), {
    case: "junior, a provider's first",
  });
  line("TrancheVault", "deposit", await gasOf(junior.connect(a).deposit(50_000n * CNY, a.address)), {
    case: "junior, repeat",
  });
  for (const p of [b, c, d]) await junior.connect(p).deposit(100_000n * CNY, p.address);

  // Junior requests wait for the 7-day notice.
  const piece = await junior.convertToShares(1_000n * CNY);
  line("TrancheVault", "requestRedeem", await gasOf(junior.connect(a).requestRedeem(piece, a.address, a.address)), {
    case: "junior, queued (notice), the provider's first",
  });
  line("TrancheVault", "requestRedeem", await gasOf(junior.connect(a).requestRedeem(piece, a.address, a.address)), {
    case: "junior, queued (notice), repeat",
  });
  // 10 more from three providers, then one serve of a single request and one of ten.
  for (let i = 0; i < 10; i++) {
    const p = [b, c, d][i % 3];
    await junior.connect(p).requestRedeem(piece, p.address, p.address);
  }
  await hre.network.provider.send("evm_increaseTime", [7 * 86_400 + 1]);
  await fx.refreshPrices();
  const one = await gasOf(pool.serveQueue(1));
  line("CapitalPool", "serveQueue", one, { requests: 1, per_request: one });
  const ten = await gasOf(pool.serveQueue(10));
  line("CapitalPool", "serveQueue", ten, { requests: 10, per_request: Math.round(ten / 10) });
  line(
    "TrancheVault",
    "redeem",
    await gasOf(junior.connect(b).redeem(await junior.maxRedeem(b.address), b.address, b.address)),
    {
      case: "claim of served requests",
    },
  );

  // A senior exit served at once (notice 0, nothing due ahead), by a provider that has exited before.
  await senior.connect(a).requestRedeem(await senior.convertToShares(1_000n * CNY), a.address, a.address);
  await senior.connect(a).redeem(await senior.maxRedeem(a.address), a.address, a.address);
  line(
    "TrancheVault",
    "requestRedeem",
    await gasOf(senior.connect(a).requestRedeem(await senior.convertToShares(1_000n * CNY), a.address, a.address)),
    { case: "senior, served at once, repeat" },
  );
}
