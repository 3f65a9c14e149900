// The cluster directory: actor id → the node hosting it. Each node is the authority
// for the actors it hosts: it publishes its own entries (as its kernel starts and
// stops actors) to every member, sends them whole to a member that comes up, and a
// node that goes down takes its entries with it. An id two nodes claim (a moved or
// failed-over actor seen before the old owner's removal) resolves to the higher
// incarnation, then to the node that published last.

export interface DirectoryEntry {
  id: string;
  node: string;
  tenant: string;
  /** The owner's count for this id: a restart elsewhere, a migration, raise it. */
  incarnation: number;
  /** The agent's name and version (for a remote spawn or migration: definitions travel by name). */
  agent?: string;
  version?: string;
}

/** What a node publishes about its own actors. */
export type DirectoryUpdate =
  | { op: 'put'; entries: DirectoryEntry[] }
  | { op: 'remove'; ids: string[] }
  /** The sender's whole set: anything it published before and is not here is gone. */
  | { op: 'sync'; entries: DirectoryEntry[] };

export class Directory {
  private readonly own = new Map<string, DirectoryEntry>();
  /** Entries of other nodes, by node, then by id. */
  private readonly others = new Map<string, Map<string, DirectoryEntry>>();
  /** The best known remote owner of each id. */
  private readonly resolved = new Map<string, DirectoryEntry>();

  constructor(readonly nodeId: string) {}

  /** This node started hosting an actor. */
  add(entry: Omit<DirectoryEntry, 'node'>): DirectoryEntry {
    const e = { ...entry, node: this.nodeId };
    this.own.set(e.id, e);
    return e;
  }

  /** This node stopped hosting an actor. */
  delete(id: string): boolean {
    return this.own.delete(id);
  }

  ownEntries(): DirectoryEntry[] {
    return [...this.own.values()];
  }

  /** Apply what `node` published about its own actors (entries naming another node are ignored). */
  apply(node: string, update: DirectoryUpdate): void {
    let mine = this.others.get(node);
    if (!mine) this.others.set(node, (mine = new Map()));
    const touched = new Set<string>();
    if (update.op === 'remove') {
      for (const id of update.ids) if (mine.delete(id)) touched.add(id);
    } else {
      if (update.op === 'sync') {
        for (const id of mine.keys()) touched.add(id);
        mine.clear();
      }
      for (const e of update.entries) {
        if (e.node !== node) continue;
        mine.set(e.id, e);
        touched.add(e.id);
      }
    }
    for (const id of touched) this.resolve(id);
  }

  /** A node left or went down: its actors are no longer reachable there. */
  dropNode(node: string): string[] {
    const mine = this.others.get(node);
    if (!mine) return [];
    this.others.delete(node);
    const ids = [...mine.keys()];
    for (const id of ids) this.resolve(id);
    return ids;
  }

  /** Where `id` lives when not here (undefined: not known in the cluster). */
  locate(id: string): DirectoryEntry | undefined {
    return this.resolved.get(id);
  }

  /** Every known actor: own and remote. */
  entries(): DirectoryEntry[] {
    return [...this.own.values(), ...this.resolved.values()];
  }

  private resolve(id: string): void {
    let best: DirectoryEntry | undefined;
    for (const mine of this.others.values()) {
      const e = mine.get(id);
      if (e && (!best || e.incarnation > best.incarnation || (e.incarnation === best.incarnation && e.node > best.node))) best = e;
    }
    if (best) this.resolved.set(id, best);
    else this.resolved.delete(id);
  }
}
