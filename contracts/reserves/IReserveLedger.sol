// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

/// @title IReserveLedger
/// @notice Proof-of-reserves epochs: per epoch the root of a multi-asset Merkle-sum tree of every client's
///         liabilities (what the platform owes each client per asset, and each client's debt per asset), the
///         totals per asset, and the reserves per asset read on-chain from the system contracts' token balances.
///         Anyone can verify a client's inclusion proof with `verifyInclusion`. The encoding (docs/reserves.md,
///         version 1) is positional, of fixed depth, and commits each child's per-asset sums in every node.
/// @dev Amounts are token base units. Every leaf value and every partial sum is bounded by type(uint128).max.
interface IReserveLedger {
    /// @notice What the reserve publisher submits for one epoch.
    /// @param epoch must be latestEpoch() + 1
    /// @param snapshotBlock the block the liabilities were read at: after the previous epoch's, before this one
    /// @param root the Merkle-sum root (encoding version 1)
    /// @param depth tree depth, 1..32; a proof has exactly `depth` siblings
    /// @param leafCount number of real accounts (the rest of the 2^depth leaves are zero-sum padding)
    /// @param liabilities per asset (in assets() order), the sum of what is owed to clients
    /// @param debt per asset, the sum of the clients' debts
    /// @param dataHash keccak256 of the published auditor data set (leaves file)
    /// @param plainRoot root of the plain StandardMerkleTree (@openzeppelin/merkle-tree) export, or zero
    /// @param uri where the data set can be fetched
    struct EpochInput {
        uint64 epoch;
        uint64 snapshotBlock;
        bytes32 root;
        uint8 depth;
        uint64 leafCount;
        uint256[] liabilities;
        uint256[] debt;
        bytes32 dataHash;
        bytes32 plainRoot;
        string uri;
    }

    /// @notice A published epoch. `reserves` are the summed balances of reserveHolders() per asset, read in the
    ///         publishing transaction.
    struct EpochRecord {
        bytes32 root;
        bytes32 snapshotId;
        bytes32 dataHash;
        bytes32 plainRoot;
        uint64 snapshotBlock;
        uint64 leafCount;
        uint64 publishedAt;
        uint8 depth;
        uint16 encodingVersion;
        address[] assets;
        uint256[] liabilities;
        uint256[] debt;
        uint256[] reserves;
        string uri;
    }

    /// @notice A client's inclusion proof.
    /// @param accountCommitment the client's salted account commitment
    /// @param index the leaf position; bit l set means the level-l node is a right child
    /// @param owed per asset, what the platform owes the client
    /// @param debt per asset, the client's debt
    /// @param siblingHashes depth sibling hashes, bottom-up
    /// @param siblingSums depth × 2K sibling sums, bottom-up; per level owed[0..K) then debt[0..K)
    struct InclusionProof {
        bytes32 accountCommitment;
        uint256 index;
        uint256[] owed;
        uint256[] debt;
        bytes32[] siblingHashes;
        uint256[] siblingSums;
    }

    /// @notice The epoch is not the next one (epochs only move forward, one at a time).
    error ReserveEpochNotNext(uint64 given, uint64 expected);
    /// @notice The snapshot block is not after the previous epoch's, or not in the past.
    error ReserveSnapshotBlockInvalid(uint64 given, uint64 previous, uint256 current);
    /// @notice Depth outside 1..32.
    error ReserveDepthInvalid(uint8 depth);
    /// @notice Leaf count is zero or above 2^depth.
    error ReserveLeafCountInvalid(uint64 leafCount, uint8 depth);
    /// @notice A per-asset array does not have one entry per asset.
    error ReserveAssetCountMismatch(uint256 given, uint256 expected);
    /// @notice The root (or, for admin lists, an address) is zero.
    error ReserveZeroRoot();
    error ReserveInvalidAddress(address account);
    /// @notice No assets are configured.
    error ReserveNoAssets();
    /// @notice A leaf or sibling value is above type(uint128).max (this also catches negative numbers encoded in
    ///         two's complement).
    error ReserveValueOutOfRange(uint256 value);
    /// @notice A partial sum on the path leaves uint128; `slot` is the asset index (owed) or K + asset (debt).
    error ReserveSumOverflow(uint256 slot, uint256 sum);
    /// @notice The epoch was never published.
    error ReserveUnknownEpoch(uint64 epoch);
    /// @notice The proof does not have exactly `depth` siblings (× 2K sums).
    error ReserveProofLengthMismatch(uint256 given, uint256 expected);
    /// @notice The leaf index does not fit in `depth` bits.
    error ReserveIndexOutOfRange(uint256 index, uint8 depth);
    /// @notice The recomputed root differs from the epoch's.
    error ReserveRootMismatch(bytes32 computed, bytes32 expected);
    /// @notice The root's sums differ from the totals published with the epoch.
    error ReserveTotalsMismatch(uint256 slot, uint256 computed, uint256 published);
    /// @notice The asset index is beyond the epoch's assets.
    error ReserveUnknownAsset(uint256 index);

    /// @notice An epoch was published.
    event EpochPublished(
        uint64 indexed epoch,
        bytes32 root,
        uint64 snapshotBlock,
        uint64 leafCount,
        bytes32 dataHash,
        bytes32 plainRoot,
        string uri
    );
    /// @notice The epoch's liabilities in `asset` exceed the reserves read on-chain.
    event ReserveShortfall(uint64 indexed epoch, address indexed asset, uint256 liabilities, uint256 reserves);
    /// @notice The asset list (tree order) changed; it applies from the next epoch.
    event AssetsSet(address[] assets);
    /// @notice The reserve-holding system contracts changed.
    event ReserveHoldersSet(address[] holders);

    /// @notice Publishes the next epoch (reserve publisher). Reads reserves per asset and emits
    ///         ReserveShortfall for every asset whose liabilities exceed them.
    function publish(EpochInput calldata input) external;

    /// @notice Sets the assets, in tree order (admin). Applies to epochs published afterwards.
    function setAssets(address[] calldata assets_) external;

    /// @notice Sets the system contracts whose token balances are the reserves (admin): MarginEngine,
    ///         CapitalPool, InsuranceFund.
    function setReserveHolders(address[] calldata holders) external;

    /// @notice Verifies a client's inclusion proof against a published epoch. Re-applies the range rule (every
    ///         value ≤ uint128 max), the sum rule (every partial sum ≤ uint128 max) and checks that the root's
    ///         sums equal the published totals. Reverts with the failing rule's error; returns the leaf hash.
    function verifyInclusion(uint64 epoch, InclusionProof calldata proof) external view returns (bytes32 leaf);

    /// @notice The snapshot id the leaves of `epoch` at `snapshotBlock` commit to (encoding version 1):
    ///         keccak256(abi.encode("MarginBridge.PoR.v1", chainid, this, epoch, snapshotBlock)).
    function snapshotIdOf(uint64 epoch, uint64 snapshotBlock) external view returns (bytes32);

    /// @notice Reserves over liabilities of the epoch's asset `assetIndex`, 18 decimals, rounded down;
    ///         type(uint256).max when nothing is owed.
    function reserveRatio(uint64 epoch, uint256 assetIndex) external view returns (uint256);

    /// @notice Sum of `asset` balances held by reserveHolders() now.
    function currentReserves(address asset) external view returns (uint256);

    /// @notice Capital providers' view of a token's own backing: supply against the custodian's attested
    ///         reserves (zero feed when secure mint is off).
    function tokenBacking(
        address token
    ) external view returns (uint256 supply, int256 attested, uint256 attestedAt, address feed);

    function latestEpoch() external view returns (uint64);

    function getEpoch(uint64 epoch) external view returns (EpochRecord memory);

    function assets() external view returns (address[] memory);

    function reserveHolders() external view returns (address[] memory);
}
