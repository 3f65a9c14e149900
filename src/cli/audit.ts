// `agentos audit verify | head | show`: offline checks and reads of a node's
// signed audit log, straight from its LMDB, opened read-only.

import { InvalidArgumentError, type Command } from 'commander';
import { StorageError } from '../base/errors.js';
import { NODE_NAME_PATTERN } from '../base/names.js';
import { decodeRecord, type VerifyResult } from '../kernel/audit/index.js';
import type { CliIo } from './exit.js';
import { openAuditReadOnly, type ReadOnlyAudit } from './node-audit.js';

/** Where `agentos demo` (what `npm start` runs) keeps its node: createNode({ name: 'demo', dataDir: '.agentos' }). */
export const DEFAULT_DATA_DIR = '.agentos';
export const DEFAULT_NODE = 'demo';

interface NodeOpts {
  dataDir: string;
  node: string;
}

/** The rule createNode applies to node names; it also keeps `--node` inside the data dir. Shared by every command that takes `--node`. */
export function nodeName(value: string): string {
  if (!NODE_NAME_PATTERN.test(value)) throw new InvalidArgumentError('a node name is 1-64 characters of letters, digits, _ . - starting with a letter or digit.');
  return value;
}

function recordIndex(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a record index (a non-negative integer).');
  return n;
}

function withNodeOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'where the node keeps its data', DEFAULT_DATA_DIR)
    .option('--node <name>', 'the node whose log to read', nodeName, DEFAULT_NODE);
}

async function withAudit<T>(opts: NodeOpts, use: (audit: ReadOnlyAudit) => T): Promise<T> {
  const audit = await openAuditReadOnly(opts.dataDir, opts.node);
  try {
    return use(audit);
  } finally {
    await audit.close();
  }
}

export function formatVerify(result: VerifyResult, rootHash: string): string {
  if (result.ok) {
    const unsigned = result.size - result.signedSize;
    const tail = unsigned > 0 ? `; the last ${unsigned} record(s) are not covered by a signed head yet` : '';
    return `ok: ${result.size} records, signed head at size ${result.signedSize}, root ${rootHash}${tail}`;
  }
  const where = result.index !== undefined ? ` at record ${result.index}` : result.headSize !== undefined ? ` at the tree head of size ${result.headSize}` : '';
  return `TAMPERED${where}: ${result.problem}`;
}

const examples = (...lines: string[]): string => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}`;

export function registerAuditCommands(program: Command, io: CliIo): void {
  const audit = program.command('audit').description("check and read a node's signed audit log (offline, read-only)");

  withNodeOptions(audit.command('verify'))
    .description('check every record, stored hash and signed tree head; exit 1 if anything was altered')
    .option('--json', 'print the verdict as JSON')
    .addHelpText('after', examples('agentos audit verify', 'agentos audit verify --data-dir /var/lib/agentos --node edge-1 --json'))
    .action(async (opts: NodeOpts & { json?: boolean }) => {
      const { result, rootHash } = await withAudit(opts, ({ log }) => {
        const verdict = log.verify();
        return { result: verdict, rootHash: verdict.ok ? log.rootHash() : undefined };
      });
      io.out(opts.json ? JSON.stringify(rootHash === undefined ? result : { ...result, rootHash }) : formatVerify(result, rootHash ?? ''));
      if (!result.ok) io.fail();
    });

  withNodeOptions(audit.command('head'))
    .description('print the latest signed tree head as JSON')
    .addHelpText('after', examples('agentos audit head', 'agentos audit head --node edge-1 | jq .rootHash'))
    .action(async (opts: NodeOpts) => {
      const { head, size } = await withAudit(opts, ({ log, latestHead }) => ({ head: latestHead(), size: log.size }));
      if (head === undefined) throw new StorageError('AUDIT_NO_SIGNED_HEAD', `node "${opts.node}" has no signed tree head yet (${size} records stored)`);
      io.out(JSON.stringify(head, null, 2));
      if (size > head.size) io.err(`note: ${size - head.size} record(s) after this head are not signed yet`);
    });

  withNodeOptions(audit.command('show'))
    .description('print records [from, to) as JSON lines (to defaults to from + 1)')
    .argument('<from>', 'index of the first record', recordIndex)
    .argument('[to]', 'one past the last record', recordIndex)
    .addHelpText('after', examples('agentos audit show 0', 'agentos audit show 0 100 | jq -c "select(.decision == \\"refused\\")"'))
    .action(async (from: number, to: number | undefined, opts: NodeOpts) => {
      const lines = await withAudit(opts, ({ log }) => log.leaves(from, to ?? from + 1).map((leaf, i) => JSON.stringify(decodeRecord(leaf, from + i))));
      for (const line of lines) io.out(line);
    });
}
