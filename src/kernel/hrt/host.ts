// The kernel's HRT lanes and what they report: an event a lane actor emits is
// an `@agentos.hrt.output` system event (the inspector and tests see it; an
// actuator thread reads an actor's own direct ring, `lanes.directRing(id)`,
// which never passes through the main thread), and a miss,
// overrun, skip, degrade, failure or stop becomes `@agentos.hrt.<type>` — a
// miss also `@agentos.deadline.missed`, as on the main thread.

import type { Clock } from '../../base/clock.js';
import type { SystemEvent } from '../events.js';
import { DEFAULT_DIRECT_SLOTS, HrtLanes, type HrtLaneOptions, type LaneActorSpec } from './lanes.js';

export { DEFAULT_DIRECT_SLOTS, HrtLanes, type HrtLaneOptions, type LaneActorSpec };
export { LANE_STRUCTURES, type LaneOutbound } from './lane-protocol.js';

export function laneHost(options: HrtLaneOptions | undefined, clock: Clock, emit: (event: SystemEvent) => void): HrtLanes {
  return new HrtLanes(
    options ?? {},
    {
      output: (id, event, at) => emit({ type: '@agentos.hrt.output', id, event, at }),
      event: (id, event) => {
        emit({ ...event, type: `@agentos.hrt.${event.type}`, id });
        if (event.type === 'miss') emit({ type: '@agentos.deadline.missed', id, latenessMs: event.latenessMs, lane: true });
      },
      // Says at start what scheduling each lane thread got (SCHED_FIFO, a raised nice, or none).
      started: (lane, priority) => {
        emit({ type: '@agentos.hrt.lane.started', lane, policy: priority.policy, detail: priority.detail });
      },
    },
    clock,
  );
}
