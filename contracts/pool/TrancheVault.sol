// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ICapitalPool} from "./ICapitalPool.sol";
import {ITrancheVault} from "./ITrancheVault.sol";
import {IERC7540Operator, IERC7540Redeem, IERC7575} from "./IERC7540.sol";

/// @title TrancheVault
/// @notice One share class of the CapitalPool (see ITrancheVault). Trust: the pool (bound at construction) keeps the
///         class's cash and assets; the vault keeps its shares, the providers' agreements and the operators.
/// @dev The vault never holds cash: deposits go from the provider straight to the pool, claims from the pool to the
///      receiver. Shares locked by pending requests are held by the vault itself and burnt when the pool serves them,
///      so `totalSupply()` always equals the pool's `trancheShares(tranche)`. ERC-4626 is implemented here rather than
///      inherited from OpenZeppelin's synchronous vault: the conversions are OpenZeppelin's (virtual shares 10**6,
///      rounding in the vault's favour), withdraw and redeem are ERC-7540 claims.
contract TrancheVault is ITrancheVault, ERC20, EIP712, AccessManaged, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using Math for uint256;

    /// @dev ERC-7575's vault interface id: the ERC-4626 vault functions (ERC-20 excluded) and share().
    bytes4 private constant _ERC7575_VAULT = 0x2f0a18c5;

    /// @notice EIP-712 type hash of ProviderAgreement.
    bytes32 public constant PROVIDER_AGREEMENT_TYPEHASH = keccak256(
        "ProviderAgreement(address provider,bytes32 termsHash,uint32 termsVersion,uint64 signedAt)"
    );

    /// @notice The vault's virtual shares (ERC-4626 decimals offset 6), as the pool's own conversions use.
    uint256 public constant VIRTUAL_SHARES = 1e6;

    IERC20 private immutable _asset;
    uint8 private immutable _decimals;
    ICapitalPool private immutable _pool;
    uint8 private immutable _tranche;

    // slot: terms hash; slot: terms version (32).
    bytes32 private _termsHash;
    uint32 private _termsVersion;
    mapping(address provider => Agreement) private _agreements;
    mapping(address controller => mapping(address operator => bool)) private _operators;

    /// @param cash the pool's cash token (the vault's asset)
    /// @param pool_ the capital pool
    /// @param tranche_ 0 senior, 1 junior
    /// @param name_ share token name
    /// @param symbol_ share token symbol
    /// @param agreementName the EIP-712 domain name providers sign under
    /// @param authority the AccessManager
    /// @param termsHash keccak256 of the canonical JSON of the class's initial agreement terms
    /// @param termsVersion their version (≥ 1)
    constructor(
        IERC20Metadata cash,
        ICapitalPool pool_,
        uint8 tranche_,
        string memory name_,
        string memory symbol_,
        string memory agreementName,
        address authority,
        bytes32 termsHash,
        uint32 termsVersion
    ) ERC20(name_, symbol_) EIP712(agreementName, "1") AccessManaged(authority) {
        _asset = cash;
        _decimals = cash.decimals() + 6;
        _pool = pool_;
        _tranche = tranche_;
        _setTerms(termsHash, termsVersion);
    }

    modifier onlyPool() {
        if (msg.sender != address(_pool)) revert VaultNotPool(msg.sender);
        _;
    }

    // ───────────────────────────── agreements ─────────────────────────────

    /// @inheritdoc ITrancheVault
    function anchorAgreement(address provider, uint64 signedAt, bytes calldata signature) external {
        if (signedAt > block.timestamp) revert VaultSignedInFuture(signedAt, block.timestamp);
        uint32 version = _termsVersion;
        if (_agreements[provider].termsVersion == version) revert VaultAgreementAlreadyAnchored(provider, version);
        bytes32 digest = _agreementDigest(provider, signedAt);
        if (!SignatureChecker.isValidSignatureNowCalldata(provider, digest, signature)) {
            revert VaultInvalidSignature(provider);
        }
        _agreements[provider] = Agreement({
            termsVersion: version,
            signedAt: signedAt,
            anchoredAt: uint64(block.timestamp)
        });
        emit AgreementAnchored(provider, version, _termsHash, signedAt);
    }

    /// @inheritdoc ITrancheVault
    function setAgreementTerms(bytes32 termsHash, uint32 termsVersion) external restricted {
        _setTerms(termsHash, termsVersion);
    }

    // ───────────────────────────── ERC-4626 deposits ─────────────────────────────

    /// @inheritdoc IERC4626
    function asset() public view returns (address) {
        return address(_asset);
    }

    /// @notice The class's assets as of now (the pool's waterfall split).
    function totalAssets() public view returns (uint256) {
        return _pool.trancheAssets(_tranche);
    }

    /// @notice Shares for `assets`, rounded down.
    function convertToShares(uint256 assets) external view returns (uint256) {
        return _convertToShares(assets, Math.Rounding.Floor);
    }

    /// @notice Assets for `shares`, rounded down.
    function convertToAssets(uint256 shares) external view returns (uint256) {
        return _convertToAssets(shares, Math.Rounding.Floor);
    }

    /// @notice Zero for a receiver without an anchored agreement on the current terms; otherwise the cash the pool
    ///         can still book.
    function maxDeposit(address receiver) public view returns (uint256) {
        return _hasAgreement(receiver) ? _pool.depositRoom() : 0;
    }

    /// @notice The shares maxDeposit buys, rounded down.
    function maxMint(address receiver) public view returns (uint256) {
        return _convertToShares(maxDeposit(receiver), Math.Rounding.Floor);
    }

    /// @notice Shares `deposit(assets)` mints now, rounded down.
    function previewDeposit(uint256 assets) public view returns (uint256) {
        return _convertToShares(assets, Math.Rounding.Floor);
    }

    /// @notice Assets `mint(shares)` takes now, rounded up.
    function previewMint(uint256 shares) public view returns (uint256) {
        return _convertToAssets(shares, Math.Rounding.Ceil);
    }

    /// @notice Deposits `assets` for shares to `receiver`, who must have anchored the current agreement
    ///         (VaultNoAgreement). The cash goes from the caller straight to the pool. Rounding: shares down.
    function deposit(uint256 assets, address receiver) external nonReentrant returns (uint256 shares) {
        _requireAgreement(receiver);
        uint256 max = maxDeposit(receiver);
        if (assets > max) revert ERC4626ExceededMaxDeposit(receiver, assets, max);
        shares = previewDeposit(assets);
        _deposit(msg.sender, receiver, assets, shares);
    }

    /// @notice Mints `shares` to `receiver` (agreement as for deposit). Rounding: assets up.
    function mint(uint256 shares, address receiver) external nonReentrant returns (uint256 assets) {
        _requireAgreement(receiver);
        uint256 max = maxMint(receiver);
        if (shares > max) revert ERC4626ExceededMaxMint(receiver, shares, max);
        assets = previewMint(shares);
        _deposit(msg.sender, receiver, assets, shares);
    }

    // ───────────────────────────── ERC-7540 redemptions ─────────────────────────────

    /// @inheritdoc IERC7540Redeem
    /// @dev Locks the shares in the vault and queues them in the pool, which serves them at once when the class has
    ///      no notice period, nothing is due ahead and the cash and the gate allow. The cash earmarked from lending is
    ///      their value now, rounded up. Always returns request id 0 (requests aggregated per controller).
    function requestRedeem(
        uint256 shares,
        address controller,
        address owner
    ) external nonReentrant returns (uint256 requestId) {
        if (shares == 0) revert VaultZeroShares();
        if (controller == address(0)) revert VaultInvalidController(controller);
        if (owner != msg.sender && !_operators[owner][msg.sender]) _spendAllowance(owner, msg.sender, shares);
        uint256 earmark = _convertToAssets(shares, Math.Rounding.Ceil);
        _transfer(owner, address(this), shares);
        emit RedeemRequest(controller, owner, 0, msg.sender, shares);
        (, uint256 served) = _pool.trancheEnqueue(_tranche, controller, shares, earmark);
        if (served > 0) _burn(address(this), served);
        return 0;
    }

    /// @notice Claims `shares` of `controller`'s claimable redemptions, paying their assets (pro rata to what the pool
    ///         served them for, rounded down) to `receiver`. The caller is `controller` or its operator.
    function redeem(
        uint256 shares,
        address receiver,
        address controller
    ) external nonReentrant returns (uint256 assets) {
        _checkController(controller);
        (, uint256 cs, uint256 ca) = _pool.redemptionsOf(_tranche, controller);
        if (shares > cs) revert ERC4626ExceededMaxRedeem(controller, shares, cs);
        assets = shares == cs ? ca : shares.mulDiv(ca, cs);
        emit Withdraw(msg.sender, receiver, controller, assets, shares);
        _pool.trancheClaim(_tranche, controller, receiver, shares, assets);
    }

    /// @notice Claims `assets` of `controller`'s claimable redemptions for the claimable shares they stand for
    ///         (rounded up), paid to `receiver`. The caller is `controller` or its operator.
    function withdraw(
        uint256 assets,
        address receiver,
        address controller
    ) external nonReentrant returns (uint256 shares) {
        _checkController(controller);
        (, uint256 cs, uint256 ca) = _pool.redemptionsOf(_tranche, controller);
        if (assets > ca) revert ERC4626ExceededMaxWithdraw(controller, assets, ca);
        shares = assets == ca ? cs : assets.mulDiv(cs, ca, Math.Rounding.Ceil);
        emit Withdraw(msg.sender, receiver, controller, assets, shares);
        _pool.trancheClaim(_tranche, controller, receiver, shares, assets);
    }

    /// @notice `controller`'s claimable assets.
    function maxWithdraw(address controller) external view returns (uint256 assets) {
        (, , assets) = _pool.redemptionsOf(_tranche, controller);
    }

    /// @notice `controller`'s claimable shares.
    function maxRedeem(address controller) external view returns (uint256 shares) {
        (, shares, ) = _pool.redemptionsOf(_tranche, controller);
    }

    /// @notice Reverts (ERC-7540: the claim's price is the one the request was served at).
    function previewWithdraw(uint256) external pure returns (uint256) {
        revert VaultAsyncRedeem();
    }

    /// @notice Reverts (ERC-7540: the claim's price is the one the request was served at).
    function previewRedeem(uint256) external pure returns (uint256) {
        revert VaultAsyncRedeem();
    }

    /// @inheritdoc IERC7540Redeem
    /// @dev Request ids are 0: any other id has nothing pending.
    function pendingRedeemRequest(uint256 requestId, address controller) external view returns (uint256 shares) {
        if (requestId == 0) (shares, , ) = _pool.redemptionsOf(_tranche, controller);
    }

    /// @inheritdoc IERC7540Redeem
    /// @dev Request ids are 0: any other id has nothing claimable.
    function claimableRedeemRequest(uint256 requestId, address controller) external view returns (uint256 shares) {
        if (requestId == 0) (, shares, ) = _pool.redemptionsOf(_tranche, controller);
    }

    /// @inheritdoc IERC7540Operator
    function setOperator(address operator, bool approved) external returns (bool) {
        _operators[msg.sender][operator] = approved;
        emit OperatorSet(msg.sender, operator, approved);
        return true;
    }

    /// @inheritdoc IERC7540Operator
    function isOperator(address controller, address operator) external view returns (bool) {
        return _operators[controller][operator];
    }

    /// @inheritdoc ITrancheVault
    function burnServed(uint256 shares) external onlyPool {
        _burn(address(this), shares);
    }

    // ───────────────────────────── views ─────────────────────────────

    /// @inheritdoc IERC7575
    function share() external view returns (address) {
        return address(this);
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return
            interfaceId == type(IERC165).interfaceId ||
            interfaceId == type(IERC7540Operator).interfaceId ||
            interfaceId == type(IERC7540Redeem).interfaceId ||
            interfaceId == _ERC7575_VAULT;
    }

    /// @inheritdoc ITrancheVault
    function agreementDigest(address provider, uint64 signedAt) external view returns (bytes32) {
        return _agreementDigest(provider, signedAt);
    }

    /// @inheritdoc ITrancheVault
    function agreementTerms() external view returns (bytes32, uint32) {
        return (_termsHash, _termsVersion);
    }

    /// @inheritdoc ITrancheVault
    function agreementOf(address provider) external view returns (Agreement memory) {
        return _agreements[provider];
    }

    /// @inheritdoc ITrancheVault
    function hasAgreement(address provider) external view returns (bool) {
        return _hasAgreement(provider);
    }

    /// @inheritdoc ITrancheVault
    function tranche() external view returns (uint8) {
        return _tranche;
    }

    /// @inheritdoc ITrancheVault
    function pool() external view returns (address) {
        return address(_pool);
    }

    // ───────────────────────────── internals ─────────────────────────────

    /// @notice Share decimals: the cash token's + 6 (the virtual-share offset against the inflation attack).
    function decimals() public view override(ERC20, IERC20Metadata) returns (uint8) {
        return _decimals;
    }

    /// @dev OpenZeppelin's ERC-4626 conversions with a decimals offset of 6.
    function _convertToShares(uint256 assets, Math.Rounding rounding) private view returns (uint256) {
        return assets.mulDiv(totalSupply() + VIRTUAL_SHARES, totalAssets() + 1, rounding);
    }

    function _convertToAssets(uint256 shares, Math.Rounding rounding) private view returns (uint256) {
        return shares.mulDiv(totalAssets() + 1, totalSupply() + VIRTUAL_SHARES, rounding);
    }

    /// @dev Deposits: the pool books the cash into the class (checkpointing the classes first), the cash moves from
    ///      the caller to the pool, then the shares are minted.
    function _deposit(address caller, address receiver, uint256 assets, uint256 shares) private {
        _pool.trancheDeposit(_tranche, assets, shares);
        _asset.safeTransferFrom(caller, address(_pool), assets);
        _mint(receiver, shares);
        emit Deposit(caller, receiver, assets, shares);
    }

    /// @dev Every receiver of shares (deposit, mint, transfer) needs an agreement on the current terms; the vault
    ///      itself (locked shares) and burns are exempt.
    function _update(address from, address to, uint256 value) internal override {
        if (to != address(0) && to != address(this)) _requireAgreement(to);
        super._update(from, to, value);
    }

    function _checkController(address controller) private view {
        if (controller != msg.sender && !_operators[controller][msg.sender]) {
            revert VaultNotController(msg.sender, controller);
        }
    }

    function _requireAgreement(address provider) private view {
        uint256 signed = _agreements[provider].termsVersion;
        uint256 current = _termsVersion;
        if (signed != current) revert VaultNoAgreement(provider, signed, current);
    }

    function _hasAgreement(address provider) private view returns (bool) {
        return _agreements[provider].termsVersion == _termsVersion;
    }

    function _agreementDigest(address provider, uint64 signedAt) private view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(abi.encode(PROVIDER_AGREEMENT_TYPEHASH, provider, _termsHash, _termsVersion, signedAt))
            );
    }

    function _setTerms(bytes32 termsHash, uint32 termsVersion) private {
        uint32 current = _termsVersion;
        if (termsHash == bytes32(0) || termsVersion <= current) {
            revert VaultInvalidTerms(termsHash, termsVersion, current);
        }
        _termsHash = termsHash;
        _termsVersion = termsVersion;
        emit AgreementTermsSet(termsHash, termsVersion);
    }
}
