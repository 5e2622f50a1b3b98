import { deployAll, devRoleHolders } from "../../scripts/deploy/index";
import { ROLE } from "../../scripts/deploy/roles";
import { CollateralToken__factory, KycRegistry__factory, ProtocolAccessManager__factory } from "../../typechain-types";
import { gasOf, type GasContext } from "./types";

/** Gas of every external state-changing function of KycRegistry and CollateralToken. */
export async function measure({ hre, emit }: GasContext): Promise<void> {
  const s = await hre.ethers.getSigners();
  const record = await deployAll({ deployer: s[0], roles: await devRoleHolders(s), riskDelaySeconds: 0 }, "hardhat");
  const [admin, kycOfficer, custodian, riskOfficer, operator] = s;
  const [a, b, liquidator] = s.slice(10);
  const kyc = KycRegistry__factory.connect(record.contracts.KycRegistry, kycOfficer);
  const cash = CollateralToken__factory.connect(record.contracts.mbCNY, custodian);
  const manager = ProtocolAccessManager__factory.connect(record.contracts.AccessManager, admin);
  const ref = (x: string): string => hre.ethers.encodeBytes32String(x);
  const now = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
  const K = (contract: string, method: string, gas: number): void => emit({ contract, method, gas });

  K("KycRegistry", "setIdentity", await gasOf(kyc.setIdentity(a.address, 2, 156, now + 1e7, ref("a"))));
  await kyc.setIdentity(b.address, 2, 156, now + 1e7, ref("b"));
  K("KycRegistry", "setIdentity(update)", await gasOf(kyc.setIdentity(b.address, 3, 156, now + 2e7, ref("b"))));
  K("KycRegistry", "setTierLeverage", await gasOf(kyc.connect(riskOfficer).setTierLeverage(4, 4n * 10n ** 18n)));

  K("CollateralToken", "mint", await gasOf(cash.mint(a.address, 10n ** 12n, ref("dep-1"))));
  K("CollateralToken", "transfer", await gasOf(cash.connect(a).transfer(b.address, 10n ** 6n)));
  K("CollateralToken", "approve", await gasOf(cash.connect(a).approve(b.address, 10n ** 9n)));
  K("CollateralToken", "transferFrom", await gasOf(cash.connect(b).transferFrom(a.address, b.address, 10n ** 6n)));
  const deadline = now + 1e6;
  const domain = { name: await cash.name(), version: "1", chainId: 31337, verifyingContract: await cash.getAddress() };
  const types = {
    Permit: [
      { name: "owner", type: "address" },
      { name: "spender", type: "address" },
      { name: "value", type: "uint256" },
      { name: "nonce", type: "uint256" },
      { name: "deadline", type: "uint256" },
    ],
  };
  const sig = hre.ethers.Signature.from(
    await a.signTypedData(domain, types, { owner: a.address, spender: b.address, value: 5n, nonce: 0n, deadline }),
  );
  K("CollateralToken", "permit", await gasOf(cash.permit(a.address, b.address, 5n, deadline, sig.v, sig.r, sig.s)));
  K("CollateralToken", "redeem", await gasOf(cash.connect(a).redeem(10n ** 6n, ref("pay-1"))));
  K("CollateralToken", "setFrozen", await gasOf(cash.connect(operator).setFrozen(b.address, true)));
  await manager.grantRole(ROLE.LIQUIDATOR, liquidator.address, 0);
  K(
    "CollateralToken",
    "forcedTransfer",
    await gasOf(cash.connect(liquidator).forcedTransfer(b.address, a.address, 10n ** 6n)),
  );
  K("CollateralToken", "setSystemAccount", await gasOf(cash.connect(admin).setSystemAccount(liquidator.address, true)));
  K("CollateralToken", "setReserveFeed", await gasOf(cash.connect(admin).setReserveFeed(hre.ethers.ZeroAddress, 3600)));
  K("CollateralToken", "pause", await gasOf(cash.connect(operator).pause()));
  K("CollateralToken", "unpause", await gasOf(cash.connect(operator).unpause()));
  K("KycRegistry", "revoke", await gasOf(kyc.revoke(b.address, ref("case"))));
}
