// `agentos audit verify | head | show`: checks and reads of a node's signed
// audit log. `show`, and `verify`/`head` of a stopped node (or with --offline),
// read its LMDB straight from disk, opened read-only. `verify` and `head` of a
// running node ask it through its control endpoint instead: on disk, the
// records it has not flushed yet are missing and its latest head may be unsigned.

import { InvalidArgumentError, type Command } from 'commander';
import { StorageError, isAgentOsError } from '../base/errors.js';
import { decodeRecord, type SignedTreeHead, type VerifyResult } from '../kernel/audit/index.js';
import { ControlCodes, type AuditHeadResponse, type AuditVerifyResponse } from '../node/control.js';
import { NODE_NOT_RUNNING, callNode } from './control-client.js';
import { outPaint, type CliIo } from './exit.js';
import { PLAIN, type Paint } from './style.js';
import { openAuditReadOnly, type ReadOnlyAudit } from './node-audit.js';
import { DEFAULT_DATA_DIR, DEFAULT_NODE, nodeName } from './options.js';

export { DEFAULT_DATA_DIR, DEFAULT_NODE, nodeName } from './options.js';

interface NodeOpts {
  dataDir: string;
  node: string;
  /** Read the data dir even when the node runs. */
  offline?: boolean;
}

/** No node to ask: none runs there, its control file is unusable, or it predates the audit routes. Then the disk is read. */
const OFFLINE_FALLBACK = new Set([NODE_NOT_RUNNING, ControlCodes.notFound, 'CONTROL_FILE_INVALID', 'CONTROL_FILE_UNREADABLE']);

/** The running node's answer, or undefined when there is no running node to ask (or --offline). */
async function fromRunningNode<T>(opts: NodeOpts, path: string): Promise<T | undefined> {
  if (opts.offline) return undefined;
  try {
    return await callNode<T>(opts, path);
  } catch (err) {
    if (isAgentOsError(err) && OFFLINE_FALLBACK.has(err.code)) return undefined;
    throw err;
  }
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

const LIVE_HELP = `
A running node (\`agentos serve\`) is asked through its control endpoint: it
flushes its records, signs a head over them and answers. A stopped node's log
is read from <data-dir>/<node> read-only; --offline reads it so while the node
runs (without its unflushed records).`;

async function withAudit<T>(opts: NodeOpts, use: (audit: ReadOnlyAudit) => T): Promise<T> {
  const audit = await openAuditReadOnly(opts.dataDir, opts.node);
  try {
    return use(audit);
  } finally {
    await audit.close();
  }
}

export function formatVerify(result: VerifyResult, rootHash: string, p: Paint = PLAIN): string {
  if (result.ok) {
    const unsigned = result.size - result.signedSize;
    const tail = unsigned > 0 ? `; the last ${unsigned} record(s) are not covered by a signed head yet` : '';
    return `${p.green('ok')}: ${result.size} records, signed head at size ${result.signedSize}, root ${rootHash}${tail}`;
  }
  const where = result.index !== undefined ? ` at record ${result.index}` : result.headSize !== undefined ? ` at the tree head of size ${result.headSize}` : '';
  return `${p.red(`TAMPERED${where}`)}: ${result.problem}`;
}

const examples = (...lines: string[]): string => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}`;

export function registerAuditCommands(program: Command, io: CliIo): void {
  const audit = program.command('audit').description("check and read a node's signed audit log (read-only; a running node is asked through its control endpoint)");

  withNodeOptions(audit.command('verify'))
    .description('check every record, stored hash and signed tree head; exit 1 if anything was altered')
    .option('--json', 'print the verdict as JSON')
    .option('--offline', 'read the data dir even if the node is running')
    .addHelpText('after', `${LIVE_HELP}\n${examples('agentos audit verify', 'agentos audit verify --data-dir /var/lib/agentos --node edge-1 --json', 'agentos audit verify --offline')}`)
    .action(async (opts: NodeOpts & { json?: boolean }) => {
      const live = await fromRunningNode<AuditVerifyResponse>(opts, '/v1/audit/verify');
      const { result, rootHash } = live
        ? { result: live.result, rootHash: live.rootHash ?? undefined }
        : await withAudit(opts, ({ log }) => {
            const verdict = log.verify();
            return { result: verdict, rootHash: verdict.ok ? log.rootHash() : undefined };
          });
      if (live) io.err(`note: verified by the running node "${opts.node}" (all its records flushed and signed); --offline reads the data dir instead`);
      io.out(opts.json ? JSON.stringify(rootHash === undefined ? result : { ...result, rootHash }) : formatVerify(result, rootHash ?? '', outPaint(io)));
      if (!result.ok) io.fail();
    });

  withNodeOptions(audit.command('head'))
    .description('print the latest signed tree head as JSON')
    .option('--offline', 'read the data dir even if the node is running')
    .addHelpText('after', `${LIVE_HELP}\n${examples('agentos audit head', 'agentos audit head --node edge-1 | jq .rootHash')}`)
    .action(async (opts: NodeOpts) => {
      const live = await fromRunningNode<AuditHeadResponse>(opts, '/v1/audit/head');
      const { head, size }: { head: SignedTreeHead | undefined; size: number } = live
        ? { head: live.head, size: live.head.size }
        : await withAudit(opts, ({ log, latestHead }) => ({ head: latestHead(), size: log.size }));
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
