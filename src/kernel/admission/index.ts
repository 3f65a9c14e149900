// Admission control for `node.spawn`: HRT schedulability (EDF or RM/DM with jitter),
// compute reservations and model policy, as pure tests plus one stateful controller.

export {
  INVALID_HRT_TASK, liuLaylandBound, utilisation, density, normaliseTask, normaliseTasks,
  type HrtTask, type NormalTask, type HrtPolicy, type HrtTestName, type HrtVerdict, type ResponseTime,
} from './task.js';
export { edfTest, demandBound } from './edf.js';
export { rmTest, responseTimes, priorityOrder } from './fixedPriority.js';
export { simulate, type SimulationOptions, type SimulationResult, type DeadlineMiss } from './simulate.js';
export {
  INVALID_ADMISSION_REQUEST, staticCatalog, matchModels, globToRegExp,
  type CatalogModel, type ModelCatalog, type ModelPolicy, type ModelMatch, type ModelRejection,
} from './catalog.js';
export {
  ADMISSION_REFUSED, AdmissionController,
  type AdmissionRequest, type AdmissionControllerOptions, type NodeCapacity, type Decision, type Refusal,
  type Constraint, type LatencyClass, type Reservation, type ReservationSnapshot, type ResourceFigures,
} from './controller.js';
export { laneTest, partition, placeOnLane, type LaneCheck, type LanePlacement, type PartitionResult, type LaneTestOptions } from './partition.js';
export { nonPreemptiveEdfTest, MAX_BLOCKING_POINTS, type LaneVerdict } from './nonPreemptive.js';
