// The kernel's HRT lanes and what they report: an event a lane actor emits is
// an `@agentos.hrt.output` system event (the inspector and tests see it; an
// actuator thread can read the lane's outbound ring directly), and a miss,
// overrun, skip, degrade, failure or stop becomes `@agentos.hrt.<type>` — a
// miss also `@agentos.deadline.missed`, as on the main thread.

import type { Clock } from '../../base/clock.js';
import type { SystemEvent } from '../events.js';
import { HrtLanes, type HrtLaneOptions } from './lanes.js';

export { HrtLanes, type HrtLaneOptions };

export function laneHost(options: HrtLaneOptions | undefined, clock: Clock, emit: (event: SystemEvent) => void): HrtLanes {
  return new HrtLanes(
    options ?? {},
    {
      output: (id, event, at) => emit({ type: '@agentos.hrt.output', id, event, at }),
      event: (id, event) => {
        emit({ ...event, type: `@agentos.hrt.${event.type}`, id });
        if (event.type === 'miss') emit({ type: '@agentos.deadline.missed', id, latenessMs: event.latenessMs, lane: true });
      },
    },
    clock,
  );
}
