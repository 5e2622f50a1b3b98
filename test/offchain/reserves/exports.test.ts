import { expect } from "chai";
import * as reserves from "../../../offchain/reserves";

describe("offchain/reserves public surface", () => {
  it("exports exactly the documented runtime API", () => {
    expect(Object.keys(reserves).sort()).to.deep.equal(
      [
        "ENCODING_VERSION",
        "FILES",
        "HashPool",
        "JsonFileLiabilitySource",
        "MAX_DEPTH",
        "MAX_UINT128",
        "PLAIN_LEAF_ENCODING",
        "ReservesError",
        "SumTree",
        "accountCommitment",
        "auditClientProof",
        "auditDataset",
        "buildFromLeaves",
        "buildPlainTree",
        "buildSumTree",
        "clientProofSchema",
        "depthFor",
        "findClientProof",
        "formatReport",
        "inclusionProofOf",
        "leafHash",
        "liabilitiesFileSchema",
        "nodeHash",
        "parseClientProof",
        "parseLiabilities",
        "publishEpoch",
        "readLeaves",
        "readManifest",
        "snapshotId",
        "toContractProof",
        "verifyClientProofOffline",
        "verifyInclusion",
        "reservesRoutes",
        "publishFromIndex",
        "readEpoch",
        "accountSecret",
        "RESERVES_INDEXER",
        "ACCOUNT_EVENTS",
        "reservesMarginAccountsHandler",
        "mapLimit",
        "NO_PENDING_AMOUNTS",
        "IndexedLiabilitySource",
      ].sort(),
    );
  });
});
