// The contract-net marketplace: managers announce tasks, bidders propose, the
// manager awards by a pluggable strategy within its budget, the winner executes,
// failures are re-announced; bids and awards are audited. See manager.ts and bidder.ts.

export { contractNetManager, managerStatus, type ContractNetManagerOptions } from './manager.js';
export { bidder, type Award, type Bid, type BidderOptions, type BidderState, type CallForProposals, type Evaluation } from './bidder.js';
export { bestValue, earliestEta, lowestPrice, strategyByName, STRATEGY_NAMES, type AwardContext, type AwardStrategy, type Proposal, type StrategyName, type ValueWeights } from './strategies.js';
export { MarketCodes, MarketError, type MarketCode, type MarketReason } from './errors.js';
export { MarketService } from './service.js';
export { initialState, step as protocolStep, type ProtocolEvent, type StepInput } from './protocol.js';
export { ledgerView, type Ledger } from './ledger.js';
export {
  announceMessage,
  bidderMessages,
  managerMessages,
  outcomeMessage,
  type AnnounceMessage,
  type BidderMessage,
  type ManagerMessage,
} from './messages.js';
export type { DoneOutcome, Effect, FailedOutcome, ManagerState, MarketStats, Outcome, ProtocolConfig, TaskState, TimeoutEvent } from './types.js';
