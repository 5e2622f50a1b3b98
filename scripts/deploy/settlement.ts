import type { Signer } from "ethers";
import { SettlementHub__factory, MarginEngine__factory, type ProtocolAccessManager } from "../../typechain-types";
import { ROLE } from "./roles";

/**
 * Deploys the SettlementHub over the MarginEngine: the operator submits batches and lists instruments; the hub
 * holds the SETTLER role on the engine's settleTrade. Lists every security given.
 */
export async function deploySettlement(
  deployer: Signer,
  manager: ProtocolAccessManager,
  engine: string,
  securities: string[],
  log: (line: string) => void = () => {},
): Promise<{ SettlementHub: string }> {
  const managerAddress = await manager.getAddress();
  const hub = await new SettlementHub__factory(deployer).deploy(engine, managerAddress);
  await hub.waitForDeployment();
  const hubAddress = await hub.getAddress();
  log(`SettlementHub ${hubAddress}`);
  const hubIface = SettlementHub__factory.createInterface();
  const engineIface = MarginEngine__factory.createInterface();
  await (
    await manager.setTargetFunctionRole(
      hubAddress,
      [hubIface.getFunction("settleBatch").selector, hubIface.getFunction("listInstrument").selector],
      ROLE.OPERATOR,
    )
  ).wait();
  await (
    await manager.setTargetFunctionRole(engine, [engineIface.getFunction("settleTrade").selector], ROLE.SETTLER)
  ).wait();
  await (await manager.grantRole(ROLE.SETTLER, hubAddress, 0)).wait();
  // Listing is an operator action; the deployer takes the role for the initial listing only.
  const me = await deployer.getAddress();
  const [wasOperator] = await manager.hasRole(ROLE.OPERATOR, me);
  if (!wasOperator) await (await manager.grantRole(ROLE.OPERATOR, me, 0)).wait();
  for (const s of securities) await (await hub.listInstrument(s)).wait();
  if (!wasOperator) await (await manager.renounceRole(ROLE.OPERATOR, me)).wait();
  return { SettlementHub: hubAddress };
}
