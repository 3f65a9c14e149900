// A node on a real LMDB in a temp dir, on a VirtualClock, that a test can stop
// and start again on the same dataDir (a node restart), with the agents and
// tools it was given. Also helpers to reach the node's LMDB while it is down.
import { open, type Key, type RootDatabase } from 'lmdb';
import { createNode, VirtualClock, type AgentOsNode, type NodeOptions, type SystemEvent } from '../../../src/index.js';
import { decodeCheckpoint } from '../../../src/kernel/durable/records.js';
import { nodePaths } from '../../../src/node/storage.js';
import { tempDir } from '../../support/tmp.js';

export type HarnessOptions = Omit<NodeOptions, 'name' | 'dataDir' | 'clock' | 'inspect'>;

export class NodeHarness {
  readonly tmp = tempDir('agentos-durable-');
  readonly clock: VirtualClock;
  readonly events: SystemEvent[] = [];
  node: AgentOsNode | undefined;

  constructor(
    private options: HarnessOptions,
    readonly name = 'd1',
    start = 0,
  ) {
    this.clock = new VirtualClock(start);
  }

  /** Start the node (recovering whatever is stored); `options` replaces what it is created with. */
  async start(options?: HarnessOptions): Promise<AgentOsNode> {
    if (options) this.options = options;
    this.node = await createNode({
      ...this.options,
      name: this.name,
      dataDir: this.tmp.dir,
      clock: this.clock,
      inspect: (e) => {
        if (typeof e.type === 'string' && e.type.startsWith('@agentos.')) this.events.push(e as SystemEvent);
      },
    });
    return this.node;
  }

  async stop(): Promise<void> {
    const n = this.node;
    this.node = undefined;
    await n?.stop();
  }

  async restart(options?: HarnessOptions): Promise<AgentOsNode> {
    await this.stop();
    return this.start(options);
  }

  get running(): AgentOsNode {
    if (!this.node) throw new Error('the node is not running');
    return this.node;
  }

  /** Open the (stopped) node's LMDB, run `work`, close it. */
  async offline<T>(work: (db: RootDatabase) => T | Promise<T>): Promise<T> {
    if (this.node) throw new Error('stop the node first: one writer per directory');
    const db = open({ path: nodePaths(this.tmp.dir, this.name).lmdb, maxDbs: 32 });
    try {
      return await work(db);
    } finally {
      await db.close();
    }
  }

  /**
   * Stop the node as a crash would leave it: every write made so far is on disk, but
   * the last checkpoint a clean stop takes is not (the checkpoints table is put back
   * as it was before the stop). Refuses if that stop compacted anything (a base
   * checkpoint), which a crash would not have done either.
   */
  async crash(): Promise<void> {
    const node = this.running;
    await node.durability.flushed();
    const before = this.table('durable-checkpoints');
    await this.stop();
    await this.offline(async (db) => {
      const sub = db.openDB<Uint8Array, [string, string]>({ name: 'durable-checkpoints', encoding: 'binary' });
      for (const { key, value } of sub.getRange()) {
        const old = before.get(JSON.stringify(key));
        // A new base at the same turn compacts nothing; a later one drops turns a crash would have kept.
        if (key[1] === 'base' && (old === undefined || decodeCheckpoint(old, key[0], 'base').turn !== decodeCheckpoint(value, key[0], 'base').turn)) {
          throw new Error(`crash(): the clean stop wrote a base checkpoint of ${key[0]} (it compacts); give the agent a larger retainTurns`);
        }
      }
      await sub.transaction(() => {
        for (const key of sub.getKeys()) sub.remove(key);
        for (const [key, value] of before) sub.put(JSON.parse(key) as [string, string], value);
      });
    });
  }

  /** Every record of a sub-database of the running node, raw, keyed by JSON of the key. */
  table(dbName: string): Map<string, Uint8Array> {
    const db = this.running.kernel.durability!.store.root.openDB<Uint8Array, Key>({ name: dbName, encoding: 'binary' });
    const out = new Map<string, Uint8Array>();
    for (const { key, value } of db.getRange()) out.set(JSON.stringify(key), Uint8Array.from(value));
    return out;
  }

  /** The raw bytes of a record in one of the running node's sub-databases. */
  raw<K extends string | [string, string] | [string, number]>(dbName: string, key: K): Uint8Array | undefined {
    const db = this.running.kernel.durability!.store.root.openDB<Uint8Array, K>({ name: dbName, encoding: 'binary' });
    const bytes = db.get(key);
    return bytes === undefined ? undefined : Uint8Array.from(bytes);
  }

  /** Write raw bytes into a sub-database of the stopped node (or remove the record, with `undefined`). */
  async poke<K extends string | [string, string] | [string, number]>(dbName: string, key: K, bytes: Uint8Array | undefined): Promise<void> {
    await this.offline(async (db) => {
      const sub = db.openDB<Uint8Array, K>({ name: dbName, encoding: 'binary' });
      if (bytes === undefined) await sub.remove(key);
      else await sub.put(key, bytes);
    });
  }

  async close(): Promise<void> {
    try {
      await this.stop();
    } finally {
      this.tmp.cleanup();
    }
  }
}
