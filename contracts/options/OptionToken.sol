// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title OptionToken
/// @notice The contracts of one option series: one unit is one contract (0 decimals). Minted and burned only by the
///         OptionMarket, held only by the market and the MarginEngine — every position lives in a margin account,
///         where writers' collateral is locked and where settlement pays. A withdrawal to a wallet is refused.
contract OptionToken is ERC20 {
    address private immutable _market;
    address private immutable _engine;

    /// @notice Only the market mints and burns.
    error OptionTokenOnlyMarket(address caller);
    /// @notice A transfer to or from anyone but the market and the engine.
    error OptionTokenHolderNotAllowed(address account);

    constructor(string memory name_, string memory symbol_, address engine) ERC20(name_, symbol_) {
        _market = msg.sender;
        _engine = engine;
    }

    function decimals() public pure override returns (uint8) {
        return 0;
    }

    function market() external view returns (address) {
        return _market;
    }

    function mint(address to, uint256 amount) external {
        if (msg.sender != _market) revert OptionTokenOnlyMarket(msg.sender);
        _mint(to, amount);
    }

    function burn(uint256 amount) external {
        if (msg.sender != _market) revert OptionTokenOnlyMarket(msg.sender);
        _burn(msg.sender, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && from != _market && from != _engine) revert OptionTokenHolderNotAllowed(from);
        if (to != address(0) && to != _market && to != _engine) revert OptionTokenHolderNotAllowed(to);
        super._update(from, to, value);
    }
}
