// The node's secret store: named credentials tools may read (only those they
// declare), and that the redactor scrubs from everything headed for traces,
// audit records or model prompts. Values never leave through a listing,
// `toJSON` or `util.inspect`; a rotated-out value is still scrubbed.

import { inspect } from 'node:util';
import { ToolCodes, ToolError } from './errors.js';

/** `github.token`, `OPENAI_API_KEY`, `db/password`. */
export const SECRET_NAME = /^[A-Za-z][A-Za-z0-9_./-]{0,127}$/;
/** Shorter values would match ordinary text and could not be scrubbed safely. */
export const MIN_SECRET_LENGTH = 8;
const MAX_SECRET_LENGTH = 64 * 1024;
/** Old values of rotated secrets kept for scrubbing. */
const RETIRED_MEMORY = 64;
/** Every marker the redactor writes starts with this; a secret that fits inside one could never be scrubbed. */
export const MARKER_PREFIX = '[REDACTED';

export interface SecretInfo {
  name: string;
  /** How many times the value was set (1 for a new secret, more after rotations). */
  revision: number;
}

interface Held {
  values: Map<string, string>;
  retired: string[];
  revisions: Map<string, number>;
  /** Bumped on every change, so a redactor can rebuild its matcher lazily. */
  epoch: number;
}

const HELD = new WeakMap<SecretStore, Held>();

export class SecretStore {
  constructor(initial?: Record<string, string>) {
    HELD.set(this, { values: new Map(), retired: [], revisions: new Map(), epoch: 0 });
    for (const [name, value] of Object.entries(initial ?? {})) this.set(name, value);
  }

  /** Register a secret, or rotate it (the old value stays scrubbed). */
  set(name: string, value: string): void {
    if (typeof name !== 'string' || !SECRET_NAME.test(name)) {
      throw new ToolError(ToolCodes.invalidSecret, `secret name must look like "github.token" (got ${JSON.stringify(name)})`, { field: 'name' });
    }
    if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH || value.length > MAX_SECRET_LENGTH) {
      // The message never quotes the value.
      throw new ToolError(ToolCodes.invalidSecret, `secret "${name}" must be a string of ${MIN_SECRET_LENGTH} to ${MAX_SECRET_LENGTH} characters`, { field: 'value' });
    }
    if (`${MARKER_PREFIX}]`.includes(value) || `${MARKER_PREFIX}:secret]`.includes(value)) {
      throw new ToolError(ToolCodes.invalidSecret, `secret "${name}" is too close to the redaction marker to be scrubbed`, { field: 'value' });
    }
    const held = HELD.get(this)!;
    const old = held.values.get(name);
    if (old === value) return;
    if (old !== undefined) {
      held.retired.push(old);
      if (held.retired.length > RETIRED_MEMORY) held.retired.shift();
    }
    held.values.set(name, value);
    held.revisions.set(name, (held.revisions.get(name) ?? 0) + 1);
    held.epoch++;
  }

  has(name: string): boolean {
    return HELD.get(this)!.values.has(name);
  }

  /** Forget a secret for tools; its value stays scrubbed. */
  delete(name: string): boolean {
    const held = HELD.get(this)!;
    const old = held.values.get(name);
    if (old === undefined) return false;
    held.values.delete(name);
    held.retired.push(old);
    if (held.retired.length > RETIRED_MEMORY) held.retired.shift();
    held.epoch++;
    return true;
  }

  /** Names and revisions only. */
  list(): SecretInfo[] {
    const held = HELD.get(this)!;
    return [...held.values.keys()].sort().map((name) => ({ name, revision: held.revisions.get(name)! }));
  }

  /** The value, for the registry to hand to a tool that declared it. */
  reveal(name: string): string {
    const value = HELD.get(this)!.values.get(name);
    if (value === undefined) throw new ToolError(ToolCodes.unknownSecret, `no secret named "${name}" in this node's secret store`, { field: 'secret' });
    return value;
  }

  toJSON(): { secrets: string[] } {
    return { secrets: this.list().map((s) => s.name) };
  }

  [inspect.custom](): string {
    return `SecretStore { ${this.list().map((s) => s.name).join(', ')} }`;
  }
}

/** Every value to scrub (current and retired), with the name it was registered under; and the store's epoch. Not exported from the package. */
export function secretValues(store: SecretStore): { epoch: number; values: [value: string, name: string][] } {
  const held = HELD.get(store)!;
  const values: [string, string][] = [...held.values].map(([name, value]) => [value, name]);
  for (const v of held.retired) values.push([v, 'retired']);
  return { epoch: held.epoch, values };
}
