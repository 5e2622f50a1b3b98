import { RiskError } from "./errors";
import { WAD, divCeil, mulDivDown } from "./fixed";
import { assetOf, positionValue, priceOf, valueAccount, type Valuation } from "./valuation";
import type { Account, Market } from "./types";

/**
 * DESIGN.md's single-asset threshold: with own funds E at leverage L (position L·E, debt (L − 1)·E) and maintenance
 * margin m, the account is liquidated once the asset's return r satisfies E·(1 + L·r) < m·L·E·(1 + r), i.e.
 * r < (m·L − 1) / (L·(1 − m)). Arguments and result are WAD; rounded up (toward zero for a loss), so the threshold
 * shown is never past the true one.
 */
export function liquidationReturn(leverage: bigint, maintenanceMargin: bigint): bigint {
  if (leverage <= 0n || maintenanceMargin >= WAD) {
    throw new RiskError("RISK_INVALID_INPUT", "leverage must be positive and maintenance margin below 100%", {
      leverage,
      maintenanceMargin,
    });
  }
  return divCeil((maintenanceMargin * leverage - WAD * WAD) * WAD, leverage * (WAD - maintenanceMargin));
}

export interface PositionLiquidation {
  readonly asset: string;
  readonly price: bigint;
  /**
   * Price (18-dec per whole token) below which the account becomes liquidatable, all other prices unchanged;
   * undefined when no price of this asset alone can make it liquidatable (the rest of the account covers the debt).
   */
  readonly liquidationPrice: bigint | undefined;
  /** liquidationPrice / price − 1 (WAD, ≤ 0 while the account is above maintenance). */
  readonly moveToLiquidation: bigint | undefined;
}

export interface AccountLiquidation {
  readonly accountId: string;
  readonly valuation: Valuation;
  /** Equity above the maintenance requirement (E − M), cash base units; negative once liquidatable. */
  readonly cushion: bigint;
  /**
   * The common return r* of every asset at which the account reaches maintenance:
   * 1 + r* = (D − C) / Σ (1 − h_i − m_i)·V_i. Undefined when no fall of all prices together liquidates it.
   */
  readonly uniformShock: bigint | undefined;
  readonly positions: readonly PositionLiquidation[];
}

/**
 * Liquidation thresholds of an account and of each of its positions. Derivation: the account is liquidatable iff
 * C + Σ (1 − h_i − m_i)·V_i < D. For position j with every other price fixed this solves to
 * V_j* = (D − C − Σ_{i≠j} (1 − h_i − m_i)·V_i) / (1 − h_j − m_j), and V_j* converts to a price through the quantity.
 * Prices are rounded up (the alert fires no later than the true threshold).
 */
export function accountLiquidation(account: Account, market: Market): AccountLiquidation {
  const valuation = valueAccount(account, market);
  const lines = account.positions.map((position) => {
    const risk = assetOf(market, position.asset);
    const price = priceOf(market.prices, position.asset);
    const value = positionValue(position.quantity, price, risk.decimals, market.cashDecimals);
    const keep = WAD - risk.haircut - risk.maintenanceMargin;
    return { position, risk, price, value, keep, cover: mulDivDown(value, keep < 0n ? 0n : keep, WAD) };
  });
  const net = account.debt - account.cash;
  const totalCover = lines.reduce((sum, line) => sum + line.cover, 0n);

  const positions = lines.map((line): PositionLiquidation => {
    const shortfall = net - (totalCover - line.cover);
    if (shortfall <= 0n || line.keep <= 0n || line.position.quantity === 0n) {
      return {
        asset: line.position.asset,
        price: line.price,
        liquidationPrice: undefined,
        moveToLiquidation: undefined,
      };
    }
    // price* = shortfall · WAD / keep  (value) · 10^dec · WAD / (quantity · 10^cashDec)
    const liquidationPrice = divCeil(
      shortfall * WAD * 10n ** BigInt(line.risk.decimals) * WAD,
      line.keep * line.position.quantity * 10n ** BigInt(market.cashDecimals),
    );
    return {
      asset: line.position.asset,
      price: line.price,
      liquidationPrice,
      moveToLiquidation: divCeil((liquidationPrice - line.price) * WAD, line.price),
    };
  });

  const uniformShock = net > 0n && totalCover > 0n ? divCeil((net - totalCover) * WAD, totalCover) : undefined;
  return {
    accountId: account.id,
    valuation,
    cushion: valuation.equity - valuation.maintenanceRequirement,
    uniformShock,
    positions,
  };
}
