export { BlackboardService, type BlackboardOptions, type BlackboardStats, type BoardClient } from './service.js';
export { blackboard } from './client.js';
export {
  BlackboardController,
  type ActivationRecord,
  type ControllerOptions,
  type ControllerStats,
  type KnowledgeSource,
} from './controller.js';
export { controllerStrategies, type AgendaItem, type BoardChange, type ControllerStrategy, type ControllerStrategyName } from './agenda.js';
export type { BoardView } from './board.js';
export type { BoardEntry } from './store.js';
export type { TopicSchema } from './schemas.js';
export { BlackboardCodes, BlackboardError, type BlackboardCode } from './errors.js';
export {
  boardActivateMessage,
  boardChangedMessage,
  type BlackboardRequest,
  type BoardActivateMessage,
  type BoardChangedMessage,
} from './requests.js';
export { BOARD_ID } from './actor.js';
