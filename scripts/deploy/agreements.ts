import type { ProtocolAccessManager as AccessManager } from "../../typechain-types";
import { AgreementBinding__factory, AgreementRegistry__factory } from "../../typechain-types";
import { ROLE } from "./roles";
import type { DeployOptions } from "./types";

/**
 * Deploys the AgreementRegistry (legal anchoring of signed financing agreements) and maps `anchor` to OPERATOR and
 * `close` to AGREEMENT_SETTLER (granted to the AgreementSettlement by deployAgreementSettlement: an agreement closes
 * only through its end waterfall); points the engine's AgreementBinding at it (admin, once) and maps its `propose`
 * and `terminate` (the operator's side of it; the account itself may always terminate its own) to OPERATOR. Unless
 * `opts.requireAgreements` is explicitly false, every borrow needs an active bound agreement from the start
 * (requireAgreements, one-way). Reads stay public.
 * Returns the addresses to merge into the deployment record.
 */
export async function deployAgreements(
  opts: DeployOptions,
  manager: AccessManager,
  bindingAddress: string,
): Promise<Record<string, string>> {
  const log = opts.log ?? (() => {});
  const managerAddress = await manager.getAddress();
  const registry = await new AgreementRegistry__factory(opts.deployer).deploy(managerAddress);
  await registry.waitForDeployment();
  const address = await registry.getAddress();
  log(`AgreementRegistry ${address}`);
  const iface = AgreementRegistry__factory.createInterface();
  await (await manager.setTargetFunctionRole(address, [iface.getFunction("anchor").selector], ROLE.OPERATOR)).wait();
  await (
    await manager.setTargetFunctionRole(address, [iface.getFunction("close").selector], ROLE.AGREEMENT_SETTLER)
  ).wait();
  const binding = AgreementBinding__factory.connect(bindingAddress, opts.deployer);
  await (await binding.setRegistry(address)).wait();
  const bindingIface = AgreementBinding__factory.createInterface();
  const operatorCalls = (["propose", "terminate"] as const).map((name) => bindingIface.getFunction(name).selector);
  await (await manager.setTargetFunctionRole(bindingAddress, operatorCalls, ROLE.OPERATOR)).wait();
  if (opts.requireAgreements !== false) await (await binding.requireAgreements()).wait();
  return { AgreementRegistry: address };
}
