import { expect } from "chai";
import { startLocalChain, type LocalChain } from "../../scripts/lib/localChain";
import { deployAll, deploymentIsLive, devRoleHolders } from "../../scripts/deploy/index";
import { CollateralToken__factory, KycRegistry__factory } from "../../typechain-types";
import { encodeBytes32String, type JsonRpcSigner } from "ethers";

describe("local chain over JSON-RPC (the embedded default's chain)", () => {
  let chain: LocalChain;
  let signers: JsonRpcSigner[];

  before(async () => {
    chain = await startLocalChain(8701);
    signers = await Promise.all(Array.from({ length: 12 }, (_, i) => chain.provider.getSigner(i)));
  });
  after(async () => chain?.stop());

  it("deploys the foundation to a real hardhat node, and a verified client receives minted cash", async () => {
    const record = await deployAll(
      { deployer: signers[0], roles: await devRoleHolders(signers), riskDelaySeconds: 0 },
      "localhost",
    );
    expect(await deploymentIsLive(record, chain.provider)).to.equal(true);

    const client = await signers[10].getAddress();
    const kyc = KycRegistry__factory.connect(record.contracts.KycRegistry, signers[1]);
    const block = await chain.provider.getBlock("latest");
    await (await kyc.setIdentity(client, 2, 156, block!.timestamp + 86_400, encodeBytes32String("client-a"))).wait();
    const cash = CollateralToken__factory.connect(record.contracts.mbCNY, signers[2]);
    await (await cash.mint(client, 100_000n * 10n ** 6n, encodeBytes32String("custody-0001"))).wait();
    expect(await cash.balanceOf(client)).to.equal(100_000n * 10n ** 6n);
    await expect(cash.mint(client, 1n, encodeBytes32String("custody-0001"))).to.be.revertedWithCustomError(
      cash,
      "CollateralDepositAlreadyMinted",
    );
  });

  it("treats a recorded deployment as stale once the chain no longer has its code", async () => {
    const record = await deployAll(
      { deployer: signers[0], roles: await devRoleHolders(signers), riskDelaySeconds: 0 },
      "localhost",
    );
    const gone = {
      ...record,
      contracts: { ...record.contracts, KycRegistry: "0x000000000000000000000000000000000000dEaD" },
    };
    expect(await deploymentIsLive(gone, chain.provider)).to.equal(false);
    expect(await deploymentIsLive({ ...record, chainId: 1 }, chain.provider)).to.equal(false);
  });
});
