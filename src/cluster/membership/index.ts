// Public surface of cluster membership: the Membership service, the pure pieces
// it is built from (phi accrual detector, member merge order, downing decision),
// the link it needs from a transport, and the in-memory network for tests.

export { Membership, type MembershipListener, type MembershipStats } from './membership.js';
export { MEMBERSHIP_DEFAULTS, type MembershipLink, type MembershipOptions, type PeerTarget } from './options.js';
export { MEMBER_STATUSES, compareMembers, mergeMember, isLive, isTerminal, countsForQuorum, type Member, type MemberStatus } from './member.js';
export { PhiAccrualDetector, DEFAULT_PHI_OPTIONS, detectionTimeMs, phiOf, type PhiOptions } from './phi.js';
export { decideDowning, keepMajority, staticQuorum, type DowningStrategy, type DowningDecision, type DowningReason } from './downing.js';
export { MEMBERSHIP_MESSAGE_PREFIX, isMembershipMessage, parseMembershipMessage, type MembershipMessage } from './messages.js';
export type { MembershipEvent, MemberEvent, MemberEventType, QuorumEvent, RejoinEvent } from './view.js';
export { InMemoryNetwork, type InMemoryLink, type InMemoryNetworkOptions, type NetworkStats } from './in-memory-network.js';
