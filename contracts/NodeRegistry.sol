// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title NodeRegistry
/// @notice Inference nodes stake ether here to be active (able to settle receipt batches and
/// serve on-chain requests). Stake leaves through an unbonding period during which it can still
/// be slashed: a proven fraud (FraudProofs) takes the node's whole stake and unbonding amount,
/// half to the challenger, the rest burned (locked in this contract for good).
contract NodeRegistry {
    struct Node {
        uint256 staked;
        uint256 unbonding;
        uint64 unlockAt;
        bool registered;
    }

    /// @notice Least stake of an active node, in wei.
    uint256 public immutable minStake;
    /// @notice Seconds between an unbond request and the earliest withdrawal.
    uint64 public immutable unbondingPeriod;
    /// @notice The account that may authorise slashers (once).
    address public immutable deployer;

    /// @notice True for contracts allowed to slash (set once by the deployer).
    mapping(address => bool) public isSlasher;
    bool public slashersSet;
    /// @notice Slashed wei that went to no one: locked here forever.
    uint256 public totalBurned;

    mapping(address => Node) private nodes;

    event NodeRegistered(address indexed node);
    event Staked(address indexed node, uint256 amount, uint256 staked);
    event UnbondRequested(address indexed node, uint256 amount, uint256 unbonding, uint64 unlockAt);
    event Withdrawn(address indexed node, uint256 amount);
    event SlasherAuthorised(address indexed slasher);
    event Slashed(
        address indexed node, address indexed challenger, bytes32 evidence, uint256 amount, uint256 reward
    );

    error ZeroAmount();
    error InsufficientStake(uint256 staked, uint256 requested);
    error NothingToWithdraw();
    error StillUnbonding(uint64 unlockAt);
    error TransferFailed(address to, uint256 amount);
    error NotDeployer(address caller);
    error SlashersAlreadySet();
    error NotSlasher(address caller);
    error NothingToSlash(address node);

    /// @param minStake_ Least stake of an active node, in wei (at least 1).
    /// @param unbondingPeriod_ Seconds a node waits between `requestUnbond` and `withdraw`.
    constructor(uint256 minStake_, uint64 unbondingPeriod_) {
        if (minStake_ == 0) revert ZeroAmount();
        minStake = minStake_;
        unbondingPeriod = unbondingPeriod_;
        deployer = msg.sender;
    }

    /// @notice Add `msg.value` to the caller's stake, registering the caller on its first stake.
    function stake() external payable {
        if (msg.value == 0) revert ZeroAmount();
        Node storage n = nodes[msg.sender];
        if (!n.registered) {
            n.registered = true;
            emit NodeRegistered(msg.sender);
        }
        n.staked += msg.value;
        emit Staked(msg.sender, msg.value, n.staked);
    }

    /// @notice Move `amount` of the caller's stake to unbonding. The whole unbonding amount unlocks
    /// `unbondingPeriod` seconds after the LATEST request (a new request restarts the clock).
    /// @param amount Wei to unbond, at most the current stake.
    function requestUnbond(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        Node storage n = nodes[msg.sender];
        if (amount > n.staked) revert InsufficientStake(n.staked, amount);
        n.staked -= amount;
        n.unbonding += amount;
        uint64 unlockAt = uint64(block.timestamp) + unbondingPeriod;
        n.unlockAt = unlockAt;
        emit UnbondRequested(msg.sender, amount, n.unbonding, unlockAt);
    }

    /// @notice Send the caller its whole unbonding amount, once its unlock time has come.
    function withdraw() external {
        Node storage n = nodes[msg.sender];
        uint256 amount = n.unbonding;
        if (amount == 0) revert NothingToWithdraw();
        if (block.timestamp < n.unlockAt) revert StillUnbonding(n.unlockAt);
        n.unbonding = 0;
        n.unlockAt = 0;
        emit Withdrawn(msg.sender, amount);
        _send(payable(msg.sender), amount);
    }

    /// @notice Authorise the contracts that may slash (the fraud-proof contract). Callable once,
    /// by the deployer.
    /// @param slashers The authorised addresses.
    function setSlashers(address[] calldata slashers) external {
        if (msg.sender != deployer) revert NotDeployer(msg.sender);
        if (slashersSet) revert SlashersAlreadySet();
        slashersSet = true;
        for (uint256 i = 0; i < slashers.length; i++) {
            isSlasher[slashers[i]] = true;
            emit SlasherAuthorised(slashers[i]);
        }
    }

    /// @notice Take `node`'s whole stake and unbonding amount: half goes to `challenger`, the
    /// rest is burned. Only an authorised slasher may call this.
    /// @param node The node proven to have lied.
    /// @param challenger Who proved it (receives half).
    /// @param evidence What was proven (the fraudulent receipt's digest).
    /// @return reward The wei paid to the challenger.
    function slash(address node, address payable challenger, bytes32 evidence) external returns (uint256 reward) {
        if (!isSlasher[msg.sender]) revert NotSlasher(msg.sender);
        Node storage n = nodes[node];
        uint256 amount = n.staked + n.unbonding;
        if (amount == 0) revert NothingToSlash(node);
        n.staked = 0;
        n.unbonding = 0;
        n.unlockAt = 0;
        reward = amount / 2;
        totalBurned += amount - reward;
        emit Slashed(node, challenger, evidence, amount, reward);
        _send(challenger, reward);
    }

    /// @notice True when `node` stakes at least `minStake`.
    function isActive(address node) external view returns (bool) {
        return nodes[node].staked >= minStake;
    }

    /// @notice True once `node` has staked (it stays registered after unbonding or a slash).
    function isRegistered(address node) external view returns (bool) {
        return nodes[node].registered;
    }

    /// @notice `node`'s stake, the amount it is unbonding, and when that unlocks (0: nothing).
    function stakeOf(address node) external view returns (uint256 staked, uint256 unbonding, uint64 unlockAt) {
        Node storage n = nodes[node];
        return (n.staked, n.unbonding, n.unlockAt);
    }

    function _send(address payable to, uint256 amount) private {
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert TransferFailed(to, amount);
    }
}
