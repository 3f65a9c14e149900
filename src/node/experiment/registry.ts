// Where scenarios come from: the built-ins by name (`marketplace`, `blackboard`)
// or a module named in the experiment file that exports one (as `default` or
// `scenario`). Built-ins load on first use, so a missing one breaks only the
// experiments that name it, never the build.

import { pathToFileURL } from 'node:url';
import { isAgentOsError } from '../../base/errors.js';
import { ExperimentCodes, ExperimentError } from './errors.js';
import type { ScenarioRef } from './file.js';
import type { ExperimentScenario } from './types.js';

type AnyScenario = ExperimentScenario<any>;

const BUILTINS: Record<string, { url: URL; description: string }> = {
  marketplace: { url: new URL('./scenarios/marketplace.js', import.meta.url), description: 'contract-net marketplace: seeded bidders, tasks, an award strategy, failures' },
  // Written against types.ts by the blackboard work; loaded by URL, so this file builds without it.
  blackboard: { url: new URL('./scenarios/blackboard.js', import.meta.url), description: 'blackboard coordination' },
};

/** Names of the built-in scenarios. */
export function builtinScenarios(): string[] {
  return Object.keys(BUILTINS);
}

/** Load the scenario an experiment names. Throws EXPERIMENT_UNKNOWN_SCENARIO (naming the scenario) when there is none. */
export async function resolveScenario(ref: ScenarioRef): Promise<AnyScenario> {
  if ('builtin' in ref) {
    const entry = BUILTINS[ref.builtin];
    if (!entry) {
      throw new ExperimentError(ExperimentCodes.unknownScenario, `unknown scenario ${JSON.stringify(ref.builtin)} (built-ins: ${builtinScenarios().join(', ')}; or { module: ./file.js })`, { field: 'scenario' });
    }
    return load(entry.url.href, `the built-in scenario "${ref.builtin}"`, ref.builtin);
  }
  return load(pathToFileURL(ref.module).href, `module ${ref.module}`);
}

async function load(url: string, what: string, expectName?: string): Promise<AnyScenario> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (err) {
    if (isAgentOsError(err)) throw err;
    const missing = (err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(new URL(url).pathname.replace(/\.js$/, ''));
    throw new ExperimentError(
      ExperimentCodes.unknownScenario,
      missing ? `${what} is not available (${new URL(url).pathname} does not exist in this build)` : `${what} failed to load: ${(err as Error).message}`,
      { field: 'scenario', cause: err },
    );
  }
  const candidates = [mod.default, mod.scenario, ...Object.values(mod)].filter(isScenario);
  const found = candidates.find((c) => expectName === undefined || c.name === expectName) ?? candidates[0];
  if (!found) throw new ExperimentError(ExperimentCodes.unknownScenario, `${what} exports no scenario (an object { name, description, parseParams, run } as default or \`scenario\`)`, { field: 'scenario' });
  return found;
}

function isScenario(value: unknown): value is AnyScenario {
  const s = value as Partial<AnyScenario> | null;
  return typeof s === 'object' && s !== null && typeof s.name === 'string' && typeof s.parseParams === 'function' && typeof s.run === 'function';
}
