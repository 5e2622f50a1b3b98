import type { Interface, Result } from "ethers";
import { CapitalPool__factory, MarginEngine__factory } from "../../typechain-types";
import type { DeploymentRecord } from "../chain/deployment";
import type { ScheduledChange } from "./legal";

let engineIface: Interface | undefined;
let poolIface: Interface | undefined;

function parse(iface: Interface, data: string): { name: string; args: Result } | undefined {
  try {
    const tx = iface.parseTransaction({ data });
    return tx ? { name: tx.name, args: tx.args } : undefined;
  } catch {
    return undefined; // not a function of that ABI
  }
}

/**
 * What a scheduled call does to an agreement's schedule, decoded with the engine's and the pool's ABIs:
 * MarginEngine.setTierRisk / setParams / configureAsset and CapitalPool.setRateModel. Any other call (roles, oracle
 * guards, tranche rules…) changes no financing term and is undefined.
 */
export function scheduledChangeOf(
  deployment: Pick<DeploymentRecord, "contracts" | "tokens">,
  target: string,
  data: string,
): ScheduledChange | undefined {
  const c = deployment.contracts;
  if (c.MarginEngine && target.toLowerCase() === c.MarginEngine.toLowerCase()) {
    const call = parse((engineIface ??= MarginEngine__factory.createInterface()), data);
    if (call?.name === "setTierRisk") {
      const r = call.args[1];
      return {
        kind: "tier-risk",
        target,
        tier: Number(call.args[0]),
        risk: {
          liquidityAddOn: r.liquidityAddOn,
          volatilityMultiplier: r.volatilityMultiplier,
          floor: r.floor,
          cap: r.cap,
          initialBuffer: r.initialBuffer,
          fixedVolatility: r.fixedVolatility,
        },
      };
    }
    if (call?.name === "setParams") {
      const p = call.args[0];
      return {
        kind: "params",
        target,
        params: {
          warningBuffer: p.warningBuffer,
          hardFloorFactor: p.hardFloorFactor,
          targetBuffer: p.targetBuffer,
          liquidatorShare: p.liquidatorShare,
          gracePeriod: Number(p.gracePeriod),
          oracleGrace: Number(p.oracleGrace),
          liquidationWindow: Number(p.liquidationWindow),
          dustValue: p.dustValue,
        },
      };
    }
    if (call?.name === "configureAsset") {
      const [address, liquidityTier, haircut, liquidationPenalty, windowCap] = call.args;
      const token = deployment.tokens.find((t) => t.address.toLowerCase() === String(address).toLowerCase());
      return {
        kind: "asset",
        target,
        address: String(address),
        liquidityTier: Number(liquidityTier),
        haircut,
        liquidationPenalty,
        windowCap,
        symbol: token?.symbol ?? String(address),
        assetDecimals: token?.decimals ?? 18,
      };
    }
    return undefined;
  }
  if (c.CapitalPool && target.toLowerCase() === c.CapitalPool.toLowerCase()) {
    const call = parse((poolIface ??= CapitalPool__factory.createInterface()), data);
    if (call?.name !== "setRateModel") return undefined;
    const m = call.args[0];
    return { kind: "rate-model", target, model: { base: m.base, slope1: m.slope1, slope2: m.slope2, kink: m.kink } };
  }
  return undefined;
}
