// Options every command that names a node shares: where its data is by
// default (what `agentos demo` and `npm start` use) and the node-name rule.

import { InvalidArgumentError } from 'commander';
import { NODE_NAME_PATTERN } from '../base/names.js';

/** Where `agentos demo` (what `npm start` runs) keeps its node: createNode({ name: 'demo', dataDir: '.agentos' }). */
export const DEFAULT_DATA_DIR = '.agentos';
export const DEFAULT_NODE = 'demo';

/** The rule createNode applies to node names; it also keeps `--node` inside the data dir. Shared by every command that takes `--node`. */
export function nodeName(value: string): string {
  if (!NODE_NAME_PATTERN.test(value)) throw new InvalidArgumentError('a node name is 1-64 characters of letters, digits, _ . - starting with a letter or digit.');
  return value;
}
